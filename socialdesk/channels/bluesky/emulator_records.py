"""Repo records of the Bluesky emulator: posts and threadgates over XRPC.

- ``com.atproto.repo.createRecord`` (``app.bsky.feed.post``: ≤ 300 graphemes and 3000
  bytes, ``reply`` needs ``root`` and ``parent`` strong refs). A caller-chosen ``rkey``
  must be a TID (else 400 ``InvalidRequest``); one already in the repo is answered with
  ``BlueskyEmulator.record_exists_error`` (400 ``InvalidRequest`` "Record already
  exists", as newer PDSes do; the hosted PDS has long answered 500
  ``InternalServerError``) and nothing is written.
- ``com.atproto.repo.uploadBlob`` (raw bytes, ``Content-Type``; ≤ 1,000,000 bytes): a blob
  ref; a post's ``app.bsky.embed.images`` (1-4, each with ``alt``) must name blobs its
  own account uploaded.
- ``com.atproto.repo.getRecord`` (posts and threadgates; none: 400 ``RecordNotFound``).
- ``com.atproto.repo.putRecord`` for ``app.bsky.feed.threadgate`` (reply controls and
  ``hiddenReplies``): only in the session's own repo (another repo: 401
  ``AuthenticationRequired``), the lexicon checked (``post`` and ``createdAt`` required,
  ``allow`` ≤ 5 rules, ``hiddenReplies`` ≤ 300 uris) and, stricter than Bluesky (whose
  AppView silently ignores such a gate), ``post`` must be the post of that repo under
  the same rkey. A ``swapRecord`` (a CID, or null: "must not exist yet") that does not
  match the stored record → 400 ``InvalidSwap``.

The routes are registered by ``create_bluesky_app`` (``emulator.py``), which
hands over its authentication, error and body-parsing helpers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from socialdesk.channels.bluesky.emulator_model import (
    _TID_ALPHABET,
    POST_COLLECTION,
    THREADGATE_COLLECTION,
    BlueskyEmulator,
    _fake_cid,
    _parse_datetime,
    _Profile,
    _Record,
    grapheme_count,
)

THREADGATE_RULES = frozenset(
    f"{THREADGATE_COLLECTION}#{rule}"
    for rule in ("mentionRule", "followerRule", "followingRule", "listRule")
)
MAX_GATE_RULES = 5
MAX_HIDDEN_REPLIES = 300
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
# app.bsky.embed.images: at most 4, each blob at most 1,000,000 bytes of an image type.
MAX_IMAGES = 4
MAX_BLOB_BYTES = 1_000_000
IMAGES_EMBED = "app.bsky.embed.images"


def _is_tid(rkey: object) -> bool:
    """13 base32-sortable characters, the top bit of the 64 clear."""
    return (
        isinstance(rkey, str)
        and len(rkey) == 13
        and rkey[0] in _TID_ALPHABET[:16]
        and all(character in _TID_ALPHABET for character in rkey)
    )


def _validate_post(record: object) -> str | None:
    """The lexicon check createRecord runs on ``app.bsky.feed.post``; None when valid."""
    prefix = "Invalid app.bsky.feed.post record: "
    if not isinstance(record, dict):
        return "Input/record must be an object"
    if record.get("$type") != POST_COLLECTION:
        return prefix + 'Record/$type must be "app.bsky.feed.post"'
    text = record.get("text")
    if not isinstance(text, str):
        return prefix + 'Record must have the property "text"'
    if grapheme_count(text) > MAX_GRAPHEMES:
        return prefix + f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes"
    if len(text.encode()) > MAX_BYTES:
        return prefix + f"Record/text must not be longer than {MAX_BYTES} characters"
    if _parse_datetime(record.get("createdAt")) is None:
        return (
            prefix
            + "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        )
    reply = record.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            return prefix + "Record/reply must be an object"
        for name in ("root", "parent"):
            ref = reply.get(name)
            if not isinstance(ref, dict):
                return prefix + f'Record/reply must have the property "{name}"'
            if not str(ref.get("uri") or "").startswith("at://") or not isinstance(
                ref.get("cid"), str
            ):
                return prefix + f"Record/reply/{name} must be a strong ref (uri and cid)"
    return None


def _check_images(emu: BlueskyEmulator, did: str, embed: object) -> str | None:
    """An ``app.bsky.embed.images`` embed: 1 to 4 images, each with ``alt`` and a blob
    this account uploaded (as a PDS checks the blobs a record references)."""
    if embed is None:
        return None
    prefix = "Invalid app.bsky.feed.post record: Record/embed"
    if not isinstance(embed, dict) or embed.get("$type") != IMAGES_EMBED:
        return f"{prefix} must be an {IMAGES_EMBED} (the emulator's only embed)"
    images = embed.get("images")
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_IMAGES:
        return f"{prefix}/images must hold 1 to {MAX_IMAGES} images"
    for image in images:
        if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
            return f'{prefix}/images items must have the property "alt"'
        blob = image.get("image")
        link = blob.get("ref", {}).get("$link") if isinstance(blob, dict) else None
        stored = emu.blobs.get(str(link))
        if stored is None or stored["owner"] != did:
            return f"Could not find blob: {link}"
        if not str(stored["mime_type"]).startswith("image/"):
            return f"{prefix}/images image must be an image blob"
    return None


def _validate_threadgate(record: object, gate_uri: str) -> str | None:
    """The lexicon check putRecord runs on ``app.bsky.feed.threadgate``, plus the rule the
    AppView applies (the gated post is in the same repo under the same rkey)."""
    prefix = "Invalid app.bsky.feed.threadgate record: "
    if not isinstance(record, dict):
        return "Input/record must be an object"
    if record.get("$type") != THREADGATE_COLLECTION:
        return prefix + f'Record/$type must be "{THREADGATE_COLLECTION}"'
    post = record.get("post")
    if not isinstance(post, str) or not post.startswith("at://"):
        return prefix + 'Record must have the property "post" (an at-uri)'
    repo, _, rest = gate_uri.removeprefix("at://").partition("/")
    if post != f"at://{repo}/{POST_COLLECTION}/{rest.rpartition('/')[2]}":
        return prefix + "Record/post must be the post of this repo with the threadgate's rkey"
    if _parse_datetime(record.get("createdAt")) is None:
        return (
            prefix
            + "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        )
    allow = record.get("allow")
    if allow is not None:
        if not isinstance(allow, list) or len(allow) > MAX_GATE_RULES:
            return prefix + f"Record/allow must be an array of at most {MAX_GATE_RULES} rules"
        for rule in allow:
            if not isinstance(rule, dict) or rule.get("$type") not in THREADGATE_RULES:
                return prefix + "Record/allow items must be threadgate rules"
            if rule["$type"].endswith("#listRule") and not str(rule.get("list", "")).startswith(
                "at://"
            ):
                return prefix + 'Record/allow listRule must have the property "list"'
    hidden = record.get("hiddenReplies")
    if hidden is not None:
        if not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_REPLIES:
            return (
                prefix + f"Record/hiddenReplies must not have more than {MAX_HIDDEN_REPLIES} "
                "elements"
            )
        if not all(isinstance(u, str) and u.startswith("at://") for u in hidden):
            return prefix + "Record/hiddenReplies items must be at-uris"
    return None


def register_record_routes(
    app: FastAPI,
    emu: BlueskyEmulator,
    *,
    authorize: Callable[[Request, str], tuple[_Profile, dict[str, str]]],
    error: Callable[..., JSONResponse],
    json_input: Callable[[Request], Awaitable[dict[str, Any]]],
) -> None:
    """Add uploadBlob, createRecord, getRecord and putRecord to the PDS app."""

    @app.post("/xrpc/com.atproto.repo.uploadBlob")
    async def upload_blob(request: Request) -> Response:
        """The raw bytes as the body, typed by ``Content-Type``: a blob ref the session's
        account can embed in one of its records."""
        me, headers = authorize(request, "com.atproto.repo.uploadBlob")
        data = await request.body()
        mime_type = request.headers.get("content-type", "").split(";")[0].strip()
        if not data:
            return error(400, "InvalidRequest", "Request body is empty", headers)
        if len(data) > MAX_BLOB_BYTES:
            return error(400, "BlobTooLarge", "This file is too large", headers)
        if not mime_type:
            return error(400, "InvalidRequest", "Missing Content-Type", headers)
        cid = "bafkrei" + _fake_cid(["blob", hashlib.sha256(data).hexdigest()])[7:]
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime_type, "size": len(data)}
        emu.blobs[cid] = {"owner": me.did, "size": len(data), "mime_type": mime_type}
        emu.sent.append({"endpoint": "com.atproto.repo.uploadBlob", "blob": blob})
        return JSONResponse({"blob": blob}, headers=headers)

    @app.post("/xrpc/com.atproto.repo.createRecord")
    async def create_record(request: Request) -> Response:
        me, headers = authorize(request, "com.atproto.repo.createRecord")
        body = await json_input(request)
        if body.get("repo") not in (me.did, me.handle):
            return error(
                400, "InvalidRequest", "Input/repo must be the authenticated account", headers
            )
        if body.get("collection") != POST_COLLECTION:
            return error(
                400, "InvalidRequest", "Emulator supports app.bsky.feed.post only", headers
            )
        problem = _validate_post(body.get("record")) or _check_images(
            emu, me.did, body["record"].get("embed")
        )
        if problem is not None:
            return error(400, "InvalidRequest", problem, headers)
        rkey = body.get("rkey")
        if rkey is not None:
            if not _is_tid(rkey):
                return error(
                    400, "InvalidRequest", f"Invalid {POST_COLLECTION} rkey: must be a TID", headers
                )
            uri = f"at://{me.did}/{POST_COLLECTION}/{rkey}"
            if uri in emu.posts:
                emu.stats["recordExists"] += 1
                status, name = emu.record_exists_error
                return error(status, name, f"Record already exists: {uri}", headers)
        post = emu.create_post(me, body["record"], rkey)
        emu.sent.append(
            {
                "endpoint": "com.atproto.repo.createRecord",
                "body": body,
                "uri": post.uri,
                "cid": post.cid,
            }
        )
        result = {
            "uri": post.uri,
            "cid": post.cid,
            "commit": {"cid": _fake_cid(["commit", post.uri]), "rev": emu.tid()},
            "validationStatus": "valid",
        }
        return JSONResponse(result, headers=headers)

    @app.get("/xrpc/com.atproto.repo.getRecord")
    async def get_record(request: Request) -> Response:
        _, headers = authorize(request, "com.atproto.repo.getRecord")
        query = request.query_params
        repo = query.get("repo", "")
        profile = emu.profiles.get(repo) or next(
            (p for p in emu.profiles.values() if p.handle == repo.lower()), None
        )
        uri = (
            f"at://{profile.did if profile else repo}/{query.get('collection')}/{query.get('rkey')}"
        )
        post = emu.posts.get(uri)
        if post is not None:
            return JSONResponse(
                {"uri": post.uri, "cid": post.cid, "value": post.record}, headers=headers
            )
        gate = emu.threadgates.get(uri)
        if gate is not None:
            return JSONResponse(
                {"uri": gate.uri, "cid": gate.cid, "value": gate.value}, headers=headers
            )
        return error(400, "RecordNotFound", f"Could not locate record: {uri}", headers)

    @app.post("/xrpc/com.atproto.repo.putRecord")
    async def put_record(request: Request) -> Response:
        me, headers = authorize(request, "com.atproto.repo.putRecord")
        body = await json_input(request)
        repo = str(body.get("repo") or "")
        owner = emu.profiles.get(repo) or next(
            (p for p in emu.profiles.values() if p.handle == repo.lower()), None
        )
        if owner is None:
            return error(400, "InvalidRequest", f"Could not find repo: {repo}", headers)
        if owner.did != me.did:
            return error(401, "AuthenticationRequired", "Authentication Required", headers)
        if body.get("collection") != THREADGATE_COLLECTION:
            return error(
                400, "InvalidRequest", "Emulator puts app.bsky.feed.threadgate only", headers
            )
        rkey = body.get("rkey")
        if not isinstance(rkey, str) or not rkey:
            return error(400, "InvalidRequest", 'Input must have the property "rkey"', headers)
        uri = f"at://{me.did}/{THREADGATE_COLLECTION}/{rkey}"
        problem = _validate_threadgate(body.get("record"), uri)
        if problem is not None:
            return error(400, "InvalidRequest", problem, headers)
        current = emu.threadgates.get(uri)
        if "swapRecord" in body and body["swapRecord"] != (current.cid if current else None):
            at = current.cid if current else "null"
            return error(400, "InvalidSwap", f"Record was at {at}", headers)
        record: dict[str, Any] = body["record"]
        stored = _Record(uri, _fake_cid([uri, record]), record)
        emu.threadgates[uri] = stored
        emu.sent.append(
            {
                "endpoint": "com.atproto.repo.putRecord",
                "body": body,
                "uri": stored.uri,
                "cid": stored.cid,
            }
        )
        result = {
            "uri": stored.uri,
            "cid": stored.cid,
            "commit": {"cid": _fake_cid(["commit", stored.uri, stored.cid]), "rev": emu.tid()},
            "validationStatus": "valid",
        }
        return JSONResponse(result, headers=headers)

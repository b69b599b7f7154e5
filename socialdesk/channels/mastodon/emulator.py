"""A local Mastodon instance: just enough of the REST API for a help-desk connector.

Wire format: ../shared/specs/social-platform-apis.md §3. One instance domain, one brand
account owning the bearer token(s), and any number of customers created on the fly by
the control API.

Mastodon API
- ``GET /api/v1/notifications`` — ``types[]``, ``exclude_types[]``, ``limit`` (default
  40, at most 80), ``max_id`` / ``since_id`` / ``min_id``; newest first; ``Link`` header
  with ``rel="next"`` (``max_id``, only when the page is full) and ``rel="prev"``
  (``min_id``).
- ``POST /api/v2/media`` (multipart ``file``, optional ``description``, its alt text of
  at most 1,500 characters): an image, attachable to one status by ``media_ids[]`` (at
  most 4);
- ``POST /api/v1/statuses`` (form or JSON), ``Idempotency-Key`` remembered for an hour;
  ``GET``/``DELETE /api/v1/statuses/:id``; ``GET /api/v1/accounts/:id``;
  ``GET /api/v1/accounts/verify_credentials``; ``GET /api/v2/instance`` (no token).
- ``GET /api/v1/timelines/tag/:hashtag`` and ``GET /api/v2/search?q&type=statuses``
  (``{"accounts","statuses","hashtags"}``): public statuses, newest first, ``limit``
  (default 20, at most 40), ``max_id`` / ``since_id`` / ``min_id`` and the ``Link`` header.
- Every authenticated answer carries ``X-RateLimit-Limit/Remaining/Reset`` (the reset
  is ISO-8601 with microseconds); over the limit: 429 ``{"error":"Too many requests"}``.

Control API (``/_emulator``)
- ``POST /customer/mention`` ``{"username", "domain"?, "display_name"?,
  "followers_count"?, "text", "visibility"?, "in_reply_to"?}`` — a customer posts a
  status mentioning the brand (``@brand`` is prepended when the text lacks it); the brand
  gets a ``mention`` notification. Returns ``{"status", "notification_id"}``.
- ``POST /customer/favourite`` ``{"username", "status_id"}`` — a ``favourite``
  notification (the poller must ignore it).
- ``POST /history`` ``{"statuses": [{"id", "username", "text", "visibility"?,
  "in_reply_to_id"?, "brand"?}]}`` — statuses from before the emulator started.
- ``GET /sent`` — statuses the client created or deleted: ``endpoint``,
  ``idempotency_key``, ``content_type``, ``params``, ``status``.
- ``GET /requests`` — every API call: ``method``, ``path``, ``query``, ``status``.
- ``POST /tokens/revoke`` ``{"token"}`` — the token now gets 401.
- ``POST /rate_limit`` ``{"limit", "window_seconds"}`` — and reset the counters.
- ``POST /faults`` ``{"status", "count"?, "after_commit"?, "error"?, "method"?, "path"?}``
  — the next API calls (matching method/path when given) fail; ``after_commit``
  performs the call first and then answers with the error (a reply lost on the way).
- ``POST /clock`` ``{"advance_seconds"}``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from socialdesk.channels.emulator_search import QuerySyntaxError, compile_query
from socialdesk.channels.mastodon.emulator_model import (
    CHARACTERS_RESERVED_PER_URL,
    MastodonEmulator,
    _Account,
    _Fault,
    _iso,
    _text_length,
)

MAX_CHARACTERS = 500
IDEMPOTENCY_TTL = timedelta(hours=1)
VISIBILITIES = ("public", "unlisted", "private", "direct")
MAX_MEDIA = 4
MAX_IMAGE_BYTES = 16 * 1024 * 1024
# A media attachment's description (alt text): media_attachments.description_limit.
MAX_DESCRIPTION = 1500
MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
INVALID_TOKEN = {"error": "The access token is invalid"}


class _Reject(Exception):
    """Ends a request early with ``response`` (bad token, rate limit, injected fault)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _int_param(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def create_mastodon_app(**options: Any) -> FastAPI:
    """A FastAPI app emulating one Mastodon instance; options go to ``MastodonEmulator``."""
    emu = MastodonEmulator(**options)
    app = FastAPI(title="Mastodon emulator")
    app.state.emulator = emu

    def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.middleware("http")
    async def log_api_calls(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if request.url.path.startswith("/api/"):
            emu.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": str(request.url.query),
                    "status": response.status_code,
                }
            )
        return response

    @app.exception_handler(_Reject)
    async def rejected(request: Request, exc: _Reject) -> Response:
        return exc.response

    def authorize(request: Request) -> tuple[_Account, dict[str, str]]:
        """(account, rate-limit headers); raises ``_Reject`` with the error answer."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in emu.tokens or token in emu.revoked:
            raise _Reject(error(401, INVALID_TOKEN["error"]))
        allowed, headers = emu.take_rate_limit(token)
        if not allowed:
            headers["X-RateLimit-Remaining"] = "0"
            raise _Reject(error(429, "Too many requests", headers))
        fault = emu.take_fault(request.method, request.url.path)
        if fault is not None and not fault.after_commit:
            raise _Reject(error(fault.status, fault.error, headers))
        if fault is not None:
            request.state.fault_after = fault
        return emu.accounts[emu.tokens[token]], headers

    def answer(request: Request, body: Any, headers: dict[str, str], **extra: str) -> Response:
        fault: _Fault | None = getattr(request.state, "fault_after", None)
        if fault is not None:
            return error(fault.status, fault.error, headers)
        return JSONResponse(body, headers={**headers, **extra})

    @app.get("/api/v2/instance")
    async def instance() -> dict[str, Any]:
        return {
            "domain": emu.domain,
            "title": "Emulated Mastodon",
            "version": "4.3.0",
            "source_url": "https://github.com/mastodon/mastodon",
            "configuration": {
                "urls": {"streaming": f"wss://{emu.domain}"},
                "accounts": {"max_featured_tags": 10},
                "statuses": {
                    "max_characters": MAX_CHARACTERS,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
                },
            },
            "registrations": {"enabled": False},
            "contact": {"account": emu.account_json(emu.brand)},
        }

    @app.get("/api/v1/accounts/verify_credentials")
    async def verify_credentials(request: Request) -> Response:
        me, headers = authorize(request)
        return answer(request, emu.account_json(me), headers)

    @app.get("/api/v1/accounts/{account_id}")
    async def get_account(request: Request, account_id: str) -> Response:
        _, headers = authorize(request)
        account = emu.accounts.get(account_id)
        if account is None:
            return error(404, "Record not found", headers)
        return answer(request, emu.account_json(account), headers)

    @app.get("/api/v1/notifications")
    async def notifications(request: Request) -> Response:
        me, headers = authorize(request)
        query = request.query_params
        types = set(query.getlist("types[]"))
        excluded = set(query.getlist("exclude_types[]"))
        limit = min(max(_int_param(query.get("limit")) or 40, 1), 80)
        max_id = _int_param(query.get("max_id"))
        since_id = _int_param(query.get("since_id"))
        min_id = _int_param(query.get("min_id"))
        pool = sorted(
            (
                n
                for n in emu.notifications
                if n.recipient_id == me.id
                and (not types or n.type in types)
                and n.type not in excluded
                and (n.status_id is None or n.status_id in emu.statuses)
                and (max_id is None or int(n.id) < max_id)
            ),
            key=lambda n: int(n.id),
        )
        if min_id is not None:
            # The entries right after min_id, oldest of them first, then shown newest first.
            page = [n for n in pool if int(n.id) > min_id][:limit][::-1]
        else:
            newer = [n for n in pool if since_id is None or int(n.id) > since_id]
            page = newer[::-1][:limit]
        link_headers: dict[str, str] = {}
        if page:
            keep = [(k, v) for k, v in query.multi_items() if k in ("types[]", "exclude_types[]")]
            keep.append(("limit", str(limit)))
            base = str(request.base_url).rstrip("/") + "/api/v1/notifications?"
            links = []
            if len(page) == limit:
                links.append(f'<{base}{urlencode([*keep, ("max_id", page[-1].id)])}>; rel="next"')
            links.append(f'<{base}{urlencode([*keep, ("min_id", page[0].id)])}>; rel="prev"')
            link_headers["Link"] = ", ".join(links)
        return answer(request, [emu.notification_json(n) for n in page], headers, **link_headers)

    def status_page(request: Request, matches: Any) -> tuple[list[Any], dict[str, str]]:
        """Public statuses that match, newest first, paged by ``max_id`` / ``since_id`` /
        ``min_id`` (the entries right after it) with Mastodon's ``Link`` header."""
        query = request.query_params
        limit = min(max(_int_param(query.get("limit")) or 20, 1), 40)
        max_id = _int_param(query.get("max_id"))
        since_id = _int_param(query.get("since_id"))
        min_id = _int_param(query.get("min_id"))
        pool = sorted(
            (
                s
                for s in emu.statuses.values()
                if s.visibility == "public"
                and s.id.isdigit()
                and (max_id is None or int(s.id) < max_id)
                and (since_id is None or int(s.id) > since_id)
                and matches(s)
            ),
            key=lambda s: int(s.id),
        )
        if min_id is not None:
            page = [s for s in pool if int(s.id) > min_id][:limit][::-1]
        else:
            page = pool[::-1][:limit]
        links: dict[str, str] = {}
        if page:
            keep = [(k, v) for k, v in query.multi_items() if k not in ("max_id", "min_id")]
            base = str(request.base_url).rstrip("/") + request.url.path + "?"
            parts = [
                f'<{base}{urlencode([*keep, ("max_id", page[-1].id)])}>; rel="next"',
                f'<{base}{urlencode([*keep, ("min_id", page[0].id)])}>; rel="prev"',
            ]
            links["Link"] = ", ".join(parts)
        return page, links

    @app.get("/api/v1/timelines/tag/{hashtag}")
    async def tag_timeline(request: Request, hashtag: str) -> Response:
        _, headers = authorize(request)
        tag = compile_query("#" + hashtag.removeprefix("#"))
        page, links = status_page(request, lambda s: tag(s.text, s.account.username))
        return answer(request, [emu.status_json(s) for s in page], headers, **links)

    @app.get("/api/v2/search")
    async def search(request: Request) -> Response:
        _, headers = authorize(request)
        query = request.query_params
        q = (query.get("q") or "").strip()
        kind = query.get("type")
        if not q:
            return error(400, "Validation failed: q is missing", headers)
        try:
            matches = compile_query(q)
        except QuerySyntaxError:
            return answer(request, {"accounts": [], "statuses": [], "hashtags": []}, headers)
        statuses: list[Any] = []
        links: dict[str, str] = {}
        if kind in (None, "statuses"):
            statuses, links = status_page(request, lambda s: matches(s.text, s.account.username))
        body = {"accounts": [], "statuses": [emu.status_json(s) for s in statuses], "hashtags": []}
        return answer(request, body, headers, **links)

    @app.post("/api/v1/statuses")
    async def post_status(request: Request) -> Response:
        me, headers = authorize(request)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                raw = await request.json()
            except ValueError:
                return error(400, "Error occurred while parsing request parameters", headers)
            params = {k: v for k, v in raw.items()} if isinstance(raw, dict) else {}
            kind = "json"
            raw_media = params.get("media_ids")
            raw_media = raw_media if isinstance(raw_media, list) else []
        else:
            form = await request.form()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
            kind = "form"
            raw_media = [v for v in form.getlist("media_ids[]") if isinstance(v, str)]
        key = request.headers.get("idempotency-key")
        now = emu.now()
        for stored_key, (_, stored_at) in list(emu.idempotency.items()):
            if now - stored_at > IDEMPOTENCY_TTL:
                del emu.idempotency[stored_key]
        if key and (me.id, key) in emu.idempotency:
            status_id, _ = emu.idempotency[(me.id, key)]
            return answer(request, emu.status_json(emu.statuses[status_id]), headers)
        text = str(params.get("status") or "")
        visibility = str(params.get("visibility") or "public")
        media_ids = [str(m) for m in (raw_media or [])]
        if len(media_ids) > MAX_MEDIA:
            return error(422, "Validation failed: Media attachments too many", headers)
        media: list[dict[str, Any]] = []
        for media_id in media_ids:
            stored = emu.media.get(media_id)
            if stored is None or stored["owner"] != me.id or stored["status_id"] is not None:
                return error(422, "Validation failed: Media attachments are invalid", headers)
            media.append(stored["json"])
        if not text.strip() and not media:
            return error(422, "Validation failed: Text can't be blank", headers)
        if _text_length(text) > MAX_CHARACTERS:
            return error(422, "Validation failed: Text character limit of 500 exceeded", headers)
        if visibility not in VISIBILITIES:
            return error(422, "Validation failed: Visibility is not included in the list", headers)
        parent = None
        if params.get("in_reply_to_id"):
            parent = emu.statuses.get(str(params["in_reply_to_id"]))
            if parent is None or not emu.can_see(me, parent):
                return error(404, "Record not found", headers)
        status = emu.create_status(
            me,
            text,
            visibility=visibility,
            in_reply_to=parent,
            spoiler_text=str(params.get("spoiler_text") or ""),
            language=str(params["language"]) if params.get("language") else None,
            media=media,
        )
        for media_id in media_ids:
            emu.media[media_id]["status_id"] = status.id
        if key:
            emu.idempotency[(me.id, key)] = (status.id, now)
        body = emu.status_json(status)
        emu.sent.append(
            {
                "endpoint": "POST /api/v1/statuses",
                "idempotency_key": key,
                "content_type": kind,
                "params": params,
                "status": body,
            }
        )
        return answer(request, body, headers)

    @app.post("/api/v2/media")
    async def upload_media(request: Request) -> Response:
        """An uploaded image, attachable to one status by its id (``media_ids[]``);
        images are processed at once (200), as on a real instance."""
        me, headers = authorize(request)
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return error(422, "Validation failed: File can't be blank", headers)
        data = await upload.read()
        mime_type = upload.content_type or ""
        if mime_type not in MEDIA_TYPES:
            return error(422, "Validation failed: File content type is invalid", headers)
        if len(data) > MAX_IMAGE_BYTES:
            return error(422, "Validation failed: File file size must be less than 16 MB", headers)
        media_id = emu.next_id()
        description = form.get("description")
        if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
            return error(
                422,
                "Validation failed: Description is too long "
                f"(maximum is {MAX_DESCRIPTION} characters)",
                headers,
            )
        url = f"https://{emu.domain}/system/media_attachments/files/{media_id}/original"
        body = {
            "id": media_id,
            "type": "image",
            "url": url,
            "preview_url": url.replace("/original", "/small"),
            "remote_url": None,
            "text_url": None,
            "meta": {"original": {"size": len(data)}},
            "description": description if isinstance(description, str) else None,
            "blurhash": None,
        }
        emu.media[media_id] = {
            "owner": me.id, "json": body, "size": len(data), "mime_type": mime_type,
            "filename": upload.filename, "status_id": None,
        }  # fmt: skip
        emu.sent.append(
            {
                "endpoint": "POST /api/v2/media",
                "media": dict(body),
                "size": len(data),
                "mime_type": mime_type,
            }
        )
        return answer(request, body, headers)

    @app.get("/api/v1/statuses/{status_id}")
    async def get_status(request: Request, status_id: str) -> Response:
        me, headers = authorize(request)
        status = emu.statuses.get(status_id)
        if status is None or not emu.can_see(me, status):
            return error(404, "Record not found", headers)
        return answer(request, emu.status_json(status), headers)

    @app.delete("/api/v1/statuses/{status_id}")
    async def delete_status(request: Request, status_id: str) -> Response:
        me, headers = authorize(request)
        status = emu.statuses.get(status_id)
        if status is None or status.account is not me:
            return error(404, "Record not found", headers)
        body = emu.status_json(status, with_source=True)
        del emu.statuses[status_id]
        emu.sent.append(
            {
                "endpoint": f"DELETE /api/v1/statuses/{status_id}",
                "idempotency_key": None,
                "content_type": None,
                "params": {},
                "status": body,
            }
        )
        return answer(request, body, headers)

    # -- control API -------------------------------------------------------------------

    @app.post("/_emulator/customer/mention")
    async def customer_mention(request: Request) -> Response:
        body = await request.json()
        author = emu.customer(body)
        text = str(body.get("text") or "")
        brand_mention = f"@{emu.brand.username}"
        if not re.search(rf"(?<![\w@]){re.escape(brand_mention)}(?![\w@])", text, re.I):
            text = f"{brand_mention} {text}"
        visibility = str(body.get("visibility") or "public")
        if visibility not in VISIBILITIES:
            return error(422, "Validation failed: Visibility is not included in the list")
        parent = emu.statuses.get(str(body["in_reply_to"])) if body.get("in_reply_to") else None
        if body.get("in_reply_to") and parent is None:
            return error(404, "Record not found")
        status = emu.create_status(
            author,
            text,
            visibility=visibility,
            in_reply_to=parent,
            spoiler_text=str(body.get("spoiler_text") or ""),
        )
        notification = next(n for n in reversed(emu.notifications) if n.status_id == status.id)
        return JSONResponse(
            {
                "status": emu.status_json(status, with_source=True),
                "notification_id": notification.id,
            }
        )

    @app.post("/_emulator/history")
    async def import_history(request: Request) -> Response:
        """Statuses from before the emulator started (the demo's earlier runs), so replies
        to them are accepted; ``brand: true`` marks the brand's own."""
        body = await request.json()
        imported = 0
        for item in body.get("statuses") or []:
            status_id = str(item.get("id") or "")
            if not status_id.isdigit():
                return error(422, "Validation failed: a status id is a number")
            author = emu.brand if item.get("brand") else emu.customer(item)
            emu.import_status(
                author,
                status_id,
                str(item.get("text") or ""),
                str(item.get("visibility") or "public"),
                str(item["in_reply_to_id"]) if item.get("in_reply_to_id") else None,
            )
            imported += 1
        return JSONResponse({"imported": imported})

    @app.post("/_emulator/customer/favourite")
    async def customer_favourite(request: Request) -> Response:
        body = await request.json()
        status = emu.statuses.get(str(body.get("status_id")))
        if status is None:
            return error(404, "Record not found")
        notification = emu.notify("favourite", status.account, emu.customer(body), status)
        return JSONResponse({"notification_id": notification.id})

    @app.get("/_emulator/sent")
    async def sent() -> list[dict[str, Any]]:
        return emu.sent

    @app.get("/_emulator/requests")
    async def requests() -> list[dict[str, Any]]:
        return emu.requests

    @app.post("/_emulator/tokens/revoke")
    async def revoke(request: Request) -> dict[str, Any]:
        body = await request.json()
        emu.revoked.add(str(body.get("token")))
        return {"revoked": sorted(emu.revoked)}

    @app.post("/_emulator/rate_limit")
    async def set_rate_limit(request: Request) -> dict[str, Any]:
        body = await request.json()
        emu.rate_limit = int(body.get("limit", emu.rate_limit))
        emu.rate_window = int(body.get("window_seconds", emu.rate_window))
        emu._usage.clear()
        return {"limit": emu.rate_limit, "window_seconds": emu.rate_window}

    @app.post("/_emulator/faults")
    async def faults(request: Request) -> dict[str, Any]:
        body = await request.json()
        status = int(body["status"])
        default = {503: "Service Unavailable", 500: "Internal Server Error"}.get(status, "Error")
        emu.faults.append(
            _Fault(
                status=status,
                remaining=int(body.get("count", 1)),
                after_commit=bool(body.get("after_commit", False)),
                error=str(body.get("error") or default),
                method=body.get("method"),
                path=body.get("path"),
            )
        )
        return {"queued": len(emu.faults)}

    @app.post("/_emulator/clock")
    async def clock(request: Request) -> dict[str, Any]:
        body = await request.json()
        emu.clock_offset += timedelta(seconds=float(body.get("advance_seconds", 0)))
        return {"now": _iso(emu.now())}

    return app


def emulator_for_cli(secret: str | None, *, webhook_url: str | None = None) -> FastAPI:
    """What ``socialdesk emulate mastodon`` serves (the descriptor's ``emulator``). Mastodon
    signs nothing and pushes nothing (the desk polls), so both arguments are unused."""
    del secret, webhook_url
    return create_mastodon_app()

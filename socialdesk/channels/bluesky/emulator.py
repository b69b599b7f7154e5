"""A local Bluesky PDS + AppView: sessions, notifications and posts over XRPC.

Wire format: ../shared/specs/social-platform-apis.md §4. One brand account (handle, DID
and app password) and customers created on the fly by the control API.

XRPC (``/xrpc/<nsid>``)
- ``com.atproto.server.createSession`` — limited to 30 per 5 min (counted in stats);
  ``refreshSession`` (``Bearer <refreshJwt>``, rotates: the old refresh token is revoked).
  Expired access token → 400 ``ExpiredToken``; unknown or wrong-scope token → 400
  ``InvalidToken``; no token → 401 ``AuthMissing``.
- ``app.bsky.notification.listNotifications`` — ``limit`` 1..100 (default 50), repeated
  ``reasons``, ``cursor``; newest first, the cursor pages toward older entries.
  ``app.bsky.notification.updateSeen``.
- ``app.bsky.feed.getPosts``; ``app.bsky.feed.searchPosts`` (``q`` in the search syntax
  of ``channels/emulator_search.py``, ``since``, ``limit`` 1..100, default 25, and an
  offset ``cursor``; newest first, ``hitsTotal``).
- Repo records (``com.atproto.repo.createRecord`` with an optional TID ``rkey``, taken
  keys refused; ``getRecord``, ``putRecord`` for posts and threadgates, with their
  lexicon checks): ``emulator_records.py``.
- Authenticated answers carry ``RateLimit-Limit/Remaining/Reset`` (unix seconds) and
  ``RateLimit-Policy``; over the limit: 429 ``RateLimitExceeded``.
- Direct messages (``chat.bsky.convo.*`` behind the ``atproto-proxy`` header):
  ``emulator_chat.py``.

Control API (``/_emulator``)
- ``POST /customer/mention`` ``{"handle", "display_name"?, "text"}`` — a post mentioning
  the brand (``@brand.handle`` is prepended when missing). Returns ``{"uri", "cid"}``.
- ``POST /customer/reply`` ``{"handle", "text", "parent_uri"}`` — a reply; the brand gets a
  ``reply`` notification when it wrote the parent.
- ``POST /history`` ``{"posts": [{"uri", "cid", "handle", "text"}]}`` — posts from
  before the emulator started, kept at their uri and cid.
- ``POST /customer/like`` ``{"handle", "uri"}`` — a ``like`` notification.
- ``POST /session/expire`` — every access token issued so far is now expired.
- ``POST /session/revoke`` — every refresh token is revoked (app password revoked).
- ``GET /stats`` — ``createSession``, ``refreshSession`` call counts, ``updateSeen`` values,
  ``recordExists`` (creates refused because the rkey was taken).
- ``GET /sent`` — records the client created or put; ``GET /requests`` — every XRPC call.
- ``GET /threadgate?post=<root post uri>`` — ``{"uri", "cid", "value", "hidden_replies"}``
  of that post's threadgate (``uri``/``cid``/``value`` null and no hidden replies when
  it has none).
- ``POST /faults`` ``{"status", "error"?, "message"?, "count"?, "nsid"?}``,
  ``POST /rate_limit`` ``{"limit", "window_seconds", "service"?: "chat"}``,
  ``POST /clock`` ``{"advance_seconds"}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from socialdesk.channels.bluesky.emulator_chat import register_chat_routes
from socialdesk.channels.bluesky.emulator_model import (
    POST_COLLECTION,
    THREADGATE_COLLECTION,
    BlueskyEmulator,
    _fake_cid,
    _iso,
    _parse_datetime,
    _Post,
    _Profile,
    _Window,
    grapheme_count,
)
from socialdesk.channels.bluesky.emulator_records import (
    MAX_BYTES,
    MAX_GATE_RULES,
    MAX_GRAPHEMES,
    MAX_HIDDEN_REPLIES,
    THREADGATE_RULES,
    register_record_routes,
)
from socialdesk.channels.emulator_search import QuerySyntaxError, compile_query

# The module's names from before the state and the repo records moved out stay
# importable from here (bluesky_chat types against BlueskyEmulator and _Profile).
__all__ = [
    "MAX_BYTES",
    "MAX_GATE_RULES",
    "MAX_GRAPHEMES",
    "MAX_HIDDEN_REPLIES",
    "POST_COLLECTION",
    "THREADGATE_COLLECTION",
    "THREADGATE_RULES",
    "BlueskyEmulator",
    "_Profile",
    "create_bluesky_app",
    "grapheme_count",
]


class _Reject(Exception):
    """Ends a request early with ``response`` (bad token, rate limit, injected fault)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def create_bluesky_app(**options: Any) -> FastAPI:
    """A FastAPI app emulating the brand's PDS; options go to ``BlueskyEmulator``."""
    emu = BlueskyEmulator(**options)
    app = FastAPI(title="Bluesky emulator")
    app.state.emulator = emu

    def error(
        status: int, name: str, message: str, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        return JSONResponse(
            {"error": name, "message": message}, status_code=status, headers=headers
        )

    @app.middleware("http")
    async def log_calls(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if request.url.path.startswith("/xrpc/"):
            emu.requests.append(
                {
                    "method": request.method,
                    "nsid": request.url.path.removeprefix("/xrpc/"),
                    "query": str(request.url.query),
                    "status": response.status_code,
                }
            )
        return response

    def take_fault(nsid: str) -> JSONResponse | None:
        for fault in emu.faults:
            if fault["remaining"] > 0 and fault.get("nsid") in (None, nsid):
                fault["remaining"] -= 1
                return error(fault["status"], fault["error"], fault["message"])
        return None

    @app.exception_handler(_Reject)
    async def rejected(request: Request, exc: _Reject) -> Response:
        return exc.response

    def authorize(
        request: Request, nsid: str, window: _Window | None = None
    ) -> tuple[_Profile, dict[str, str]]:
        """(account, rate-limit headers); raises ``_Reject`` with the error answer."""
        checked = emu.check_token(request.headers.get("authorization", ""), "com.atproto.access")
        if isinstance(checked, tuple):
            raise _Reject(error(*checked))
        allowed, headers = (window or emu.api_window).take(emu.now())
        if not allowed:
            raise _Reject(error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers))
        fault = take_fault(nsid)
        if fault is not None:
            fault.headers.update(headers)
            raise _Reject(fault)
        return emu.profiles[checked.did], headers

    async def json_input(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Reject(error(400, "InvalidRequest", "Request body must be a JSON object"))
        return body

    @app.post("/xrpc/com.atproto.server.createSession")
    async def create_session(request: Request) -> Response:
        emu.stats["createSession"] += 1
        allowed, headers = emu.session_window.take(emu.now())
        if not allowed:
            return error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        body = await json_input(request)
        identifier = str(body.get("identifier") or "").lower().lstrip("@")
        if (
            identifier not in (emu.brand.handle, emu.brand.did)
            or body.get("password") != emu.app_password
        ):
            return error(401, "AuthenticationRequired", "Invalid identifier or password", headers)
        access, refresh = emu.issue_tokens(emu.brand.did)
        return JSONResponse(
            {
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": emu.brand.handle,
                "did": emu.brand.did,
                "email": "support@acme.example",
                "emailConfirmed": True,
                "active": True,
            },
            headers=headers,
        )

    @app.get("/xrpc/com.atproto.server.getSession")
    async def get_session(request: Request) -> Response:
        profile, headers = authorize(request, "com.atproto.server.getSession")
        return JSONResponse(
            {"did": profile.did, "handle": profile.handle, "active": True}, headers=headers
        )

    @app.post("/xrpc/com.atproto.server.refreshSession")
    async def refresh_session(request: Request) -> Response:
        emu.stats["refreshSession"] += 1
        checked = emu.check_token(request.headers.get("authorization", ""), "com.atproto.refresh")
        if isinstance(checked, tuple):
            return error(*checked)
        checked.revoked = True
        access, refresh = emu.issue_tokens(checked.did)
        profile = emu.profiles[checked.did]
        return JSONResponse(
            {
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": profile.handle,
                "did": profile.did,
                "active": True,
            }
        )

    @app.get("/xrpc/app.bsky.notification.listNotifications")
    async def list_notifications(request: Request) -> Response:
        me, headers = authorize(request, "app.bsky.notification.listNotifications")
        query = request.query_params
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "Error: limit must be between 1 and 100", headers)
        reasons = set(query.getlist("reasons"))
        pool = sorted(
            (
                n
                for n in emu.notifications
                if n.recipient == me.did and (not reasons or n.reason in reasons)
            ),
            key=lambda n: (n.indexed_at, n.seq),
            reverse=True,
        )
        if query.get("cursor"):
            when, _, seq = query["cursor"].partition("::")
            position = (_parse_datetime(when) or emu.now(), int(seq) if seq.isdigit() else -1)
            pool = [n for n in pool if (n.indexed_at, n.seq) < position]
        page = pool[:limit]
        body: dict[str, Any] = {"notifications": [emu.notification_json(n) for n in page]}
        if page:
            body["cursor"] = f"{_iso(page[-1].indexed_at)}::{page[-1].seq}"
        if me.did in emu.seen_at:
            body["seenAt"] = _iso(emu.seen_at[me.did])
        body["priority"] = False
        return JSONResponse(body, headers=headers)

    @app.post("/xrpc/app.bsky.notification.updateSeen")
    async def update_seen(request: Request) -> Response:
        me, headers = authorize(request, "app.bsky.notification.updateSeen")
        body = await json_input(request)
        seen = _parse_datetime(body.get("seenAt"))
        if seen is None:
            return error(
                400, "InvalidRequest", "Input/seenAt must be an valid atproto datetime", headers
            )
        emu.seen_at[me.did] = seen
        emu.stats["updateSeen"].append(body["seenAt"])
        return Response(status_code=200, headers=headers)

    register_record_routes(app, emu, authorize=authorize, error=error, json_input=json_input)

    @app.get("/xrpc/app.bsky.feed.getPosts")
    async def get_posts(request: Request) -> Response:
        _, headers = authorize(request, "app.bsky.feed.getPosts")
        uris = request.query_params.getlist("uris")
        if len(uris) > 25:
            return error(
                400, "InvalidRequest", "Error: uris must not have more than 25 elements", headers
            )
        posts = [emu.post_view(emu.posts[u]) for u in uris if u in emu.posts]
        return JSONResponse({"posts": posts}, headers=headers)

    @app.get("/xrpc/app.bsky.feed.searchPosts")
    async def search_posts(request: Request) -> Response:
        _, headers = authorize(request, "app.bsky.feed.searchPosts")
        query = request.query_params
        q = (query.get("q") or "").strip()
        if not q:
            return error(400, "InvalidRequest", 'Error: Params must have the property "q"', headers)
        try:
            limit = int(query.get("limit", "25"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "Error: limit must be between 1 and 100", headers)
        cursor = query.get("cursor") or "0"
        if not cursor.isdigit():
            return error(400, "InvalidRequest", "Error: malformed cursor", headers)
        since = _parse_datetime(query.get("since")) if query.get("since") else None
        try:
            matches = compile_query(q)
        except QuerySyntaxError:
            return JSONResponse({"posts": [], "hitsTotal": 0}, headers=headers)
        hits = sorted(
            (
                p
                for p in emu.posts.values()
                if (since is None or p.indexed_at >= since)
                and matches(str(p.record.get("text") or ""), p.author.handle)
            ),
            key=lambda p: (p.indexed_at, p.uri),
            reverse=True,
        )
        offset = int(cursor)
        page = hits[offset : offset + limit]
        body: dict[str, Any] = {"posts": [emu.post_view(p) for p in page], "hitsTotal": len(hits)}
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        return JSONResponse(body, headers=headers)

    # -- control API -------------------------------------------------------------------

    @app.post("/_emulator/customer/mention")
    async def customer_mention(request: Request) -> dict[str, str]:
        body = await request.json()
        author = emu.profile(
            str(body.get("handle") or "customer.bsky.social"), body.get("display_name")
        )
        text = str(body.get("text") or "")
        if f"@{emu.brand.handle}" not in text.lower():
            text = f"@{emu.brand.handle} {text}"
        post = emu.create_post(author, emu.customer_record(text))
        return {"uri": post.uri, "cid": post.cid}

    @app.post("/_emulator/customer/reply")
    async def customer_reply(request: Request) -> Response:
        body = await request.json()
        author = emu.profile(
            str(body.get("handle") or "customer.bsky.social"), body.get("display_name")
        )
        parent = emu.posts.get(str(body.get("parent_uri")))
        if parent is None:
            return error(400, "RecordNotFound", "Could not locate record")
        post = emu.create_post(author, emu.customer_record(str(body.get("text") or ""), parent))
        return JSONResponse({"uri": post.uri, "cid": post.cid})

    @app.post("/_emulator/history")
    async def import_history(request: Request) -> Response:
        """Posts from before the emulator started (the demo's earlier runs), kept at
        their uri and cid, so replies to them find their parent; nobody is notified."""
        body = await request.json()
        imported = 0
        for item in body.get("posts") or []:
            uri, cid = str(item.get("uri") or ""), str(item.get("cid") or "")
            did = uri.removeprefix("at://").partition("/")[0]
            if not uri.startswith("at://did:") or not cid:
                return error(400, "InvalidRequest", "a post needs an at:// uri and a cid")
            author = emu.profile(str(item.get("handle") or did), item.get("display_name"), did)
            record = emu.customer_record(str(item.get("text") or ""))
            emu.posts.setdefault(uri, _Post(uri, cid, author, record, emu.index_time()))
            imported += 1
        return JSONResponse({"imported": imported})

    @app.post("/_emulator/customer/like")
    async def customer_like(request: Request) -> Response:
        body = await request.json()
        author = emu.profile(str(body.get("handle") or "customer.bsky.social"))
        post = emu.posts.get(str(body.get("uri")))
        if post is None:
            return error(400, "RecordNotFound", "Could not locate record")
        like = _Post(
            f"at://{author.did}/app.bsky.feed.like/{emu.tid()}", "", author, {}, emu.index_time()
        )
        like.record = {"$type": "app.bsky.feed.like", "subject": {"uri": post.uri, "cid": post.cid}}
        like.cid = _fake_cid(like.record)
        emu._notify(post.author.did, like, "like", post.uri)
        return JSONResponse({"uri": like.uri})

    @app.post("/_emulator/session/expire")
    async def expire_sessions() -> dict[str, int]:
        expired = 0
        for token in emu.tokens.values():
            if token.scope == "com.atproto.access" and token.expires_at > emu.now():
                token.expires_at = emu.now()
                expired += 1
        return {"expired": expired}

    @app.post("/_emulator/session/revoke")
    async def revoke_sessions() -> dict[str, int]:
        refresh = [t for t in emu.tokens.values() if t.scope == "com.atproto.refresh"]
        for token in refresh:
            token.revoked = True
        return {"revoked": len(refresh)}

    @app.get("/_emulator/threadgate")
    async def threadgate(post: str) -> dict[str, Any]:
        gate = emu.threadgate_of(post)
        return {
            "uri": gate.uri if gate else None,
            "cid": gate.cid if gate else None,
            "value": gate.value if gate else None,
            "hidden_replies": emu.hidden_replies(post),
        }

    @app.get("/_emulator/stats")
    async def stats() -> dict[str, Any]:
        return emu.stats

    @app.get("/_emulator/sent")
    async def sent() -> list[dict[str, Any]]:
        return emu.sent

    @app.get("/_emulator/requests")
    async def requests() -> list[dict[str, Any]]:
        return emu.requests

    @app.post("/_emulator/faults")
    async def faults(request: Request) -> dict[str, int]:
        body = await request.json()
        status = int(body["status"])
        name = body.get("error") or ("InternalServerError" if status >= 500 else "InvalidRequest")
        emu.faults.append(
            {
                "status": status,
                "error": name,
                "message": str(body.get("message") or name),
                "remaining": int(body.get("count", 1)),
                "nsid": body.get("nsid"),
            }
        )
        return {"queued": len(emu.faults)}

    @app.post("/_emulator/rate_limit")
    async def rate_limit(request: Request) -> dict[str, int]:
        body = await request.json()
        window = _Window(int(body.get("limit", 3000)), int(body.get("window_seconds", 300)))
        if body.get("service") == "chat":
            emu.chat_window = window
        else:
            emu.api_window = window
        return {"limit": window.limit, "window_seconds": window.seconds}

    @app.post("/_emulator/clock")
    async def clock(request: Request) -> dict[str, str]:
        body = await request.json()
        emu.clock_offset += timedelta(seconds=float(body.get("advance_seconds", 0)))
        return {"now": _iso(emu.now())}

    register_chat_routes(
        app,
        emu,
        authorize=authorize,
        error=error,
        json_input=json_input,
        grapheme_count=grapheme_count,
        iso=_iso,
    )
    return app


def emulator_for_cli(secret: str | None, *, webhook_url: str | None = None) -> FastAPI:
    """What ``socialdesk emulate bluesky`` serves (the descriptor's ``emulator``). The PDS
    signs nothing and pushes nothing (the desk polls), so both arguments are unused."""
    del secret, webhook_url
    return create_bluesky_app()

"""A local Mastodon instance: just enough of the REST API for a help-desk connector.

Wire format: ../shared/specs/social-platform-apis.md §3. One instance domain, one brand
account owning the bearer token(s), and any number of customers created on the fly by
the control API.

Mastodon API
- ``GET /api/v1/notifications`` — ``types[]``, ``exclude_types[]``, ``limit`` (default
  40, at most 80), ``max_id`` / ``since_id`` / ``min_id``; newest first; ``Link`` header
  with ``rel="next"`` (``max_id``, only when the page is full) and ``rel="prev"``
  (``min_id``).
- ``POST /api/v1/statuses`` (form or JSON), ``Idempotency-Key`` remembered for an hour;
  ``GET``/``DELETE /api/v1/statuses/:id``; ``GET /api/v1/accounts/:id``;
  ``GET /api/v1/accounts/verify_credentials``; ``GET /api/v2/instance`` (no token).
- Every authenticated answer carries ``X-RateLimit-Limit/Remaining/Reset`` (the reset
  is ISO-8601 with microseconds); over the limit: 429 ``{"error":"Too many requests"}``.

Control API (``/_emulator``)
- ``POST /customer/mention`` ``{"username", "domain"?, "display_name"?,
  "followers_count"?, "text", "visibility"?, "in_reply_to"?}`` — a customer posts a
  status mentioning the brand (``@brand`` is prepended when the text lacks it); the brand
  gets a ``mention`` notification. Returns ``{"status", "notification_id"}``.
- ``POST /customer/favourite`` ``{"username", "status_id"}`` — a ``favourite``
  notification (the poller must ignore it).
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

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

MAX_CHARACTERS = 500
CHARACTERS_RESERVED_PER_URL = 23
IDEMPOTENCY_TTL = timedelta(hours=1)
VISIBILITIES = ("public", "unlisted", "private", "direct")
INVALID_TOKEN = {"error": "The access token is invalid"}

_URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w/@])@(\w+)(?:@([\w.-]+\w))?", re.UNICODE)
_HASHTAG_RE = re.compile(r"(?<![\w/#])#(\w+)", re.UNICODE)


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class _Account:
    id: str
    username: str
    domain: str | None
    display_name: str
    followers_count: int
    created_at: datetime

    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass
class _Status:
    id: str
    account: _Account
    text: str
    content: str
    visibility: str
    created_at: datetime
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    mentions: list[_Account] = field(default_factory=list)
    spoiler_text: str = ""
    language: str | None = None


@dataclass
class _Notification:
    id: str
    type: str
    created_at: datetime
    recipient_id: str
    account: _Account
    status_id: str | None


@dataclass
class _Fault:
    status: int
    remaining: int
    after_commit: bool
    error: str
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path == path
        )


class MastodonEmulator:
    """The instance's state. ``app.state.emulator`` holds it for in-process inspection."""

    def __init__(
        self,
        *,
        domain: str = "mastodon.example",
        brand_username: str = "acmehelp",
        brand_display_name: str = "Acme Support",
        access_token: str = "brand-token",  # noqa: S107 - a fake token for tests
        rate_limit: int = 300,
        rate_window_seconds: int = 300,
    ) -> None:
        self.domain = domain
        self.clock_offset = timedelta()
        self._last_id = 0
        self.accounts: dict[str, _Account] = {}
        self.statuses: dict[str, _Status] = {}
        self.notifications: list[_Notification] = []
        self.brand = self._new_account(brand_username, None, brand_display_name, 1200)
        self.tokens: dict[str, str] = {access_token: self.brand.id}
        self.revoked: set[str] = set()
        self.idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.sent: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.faults: list[_Fault] = []
        self.rate_limit = rate_limit
        self.rate_window = rate_window_seconds
        self._usage: dict[str, tuple[int, int]] = {}

    # -- time and ids ----------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def next_id(self) -> str:
        """Snowflake-style: milliseconds shifted 16 bits plus a sequence, always rising."""
        candidate = int(self.now().timestamp() * 1000) << 16
        self._last_id = max(candidate, self._last_id + 1)
        return str(self._last_id)

    # -- accounts and statuses ---------------------------------------------------------

    def _new_account(
        self, username: str, domain: str | None, display_name: str, followers: int
    ) -> _Account:
        account = _Account(self.next_id(), username, domain, display_name, followers, self.now())
        self.accounts[account.id] = account
        return account

    def find_account(self, username: str, domain: str | None) -> _Account | None:
        domain = None if domain in (None, "", self.domain) else domain
        for account in self.accounts.values():
            if account.username.lower() == username.lower() and account.domain == domain:
                return account
        return None

    def customer(self, body: dict[str, Any]) -> _Account:
        username = str(body.get("username") or "customer")
        domain = body.get("domain") or None
        account = self.find_account(username, domain)
        if account is None:
            account = self._new_account(
                username,
                None if domain in (None, self.domain) else str(domain),
                str(body.get("display_name") or username.title()),
                int(body.get("followers_count") or 0),
            )
        return account

    def account_json(self, account: _Account) -> dict[str, Any]:
        host = account.domain or self.domain
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.acct(),
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "created_at": _iso(account.created_at),
            "note": "",
            "url": f"https://{host}/@{account.username}",
            "avatar": f"https://{self.domain}/avatars/original/missing.png",
            "followers_count": account.followers_count,
            "following_count": 0,
            "statuses_count": sum(1 for s in self.statuses.values() if s.account is account),
            "emojis": [],
            "fields": [],
        }

    def render(self, text: str) -> tuple[str, list[_Account]]:
        """Plain text → Mastodon's HTML (paragraphs, ``<br />``, linked mentions, tags and
        URLs with their invisible spans) and the accounts mentioned."""
        mentioned: list[_Account] = []
        token_re = re.compile(f"{_URL_RE.pattern}|{_MENTION_RE.pattern}|{_HASHTAG_RE.pattern}")

        def inline(part: str) -> str:
            out: list[str] = []
            pos = 0
            for match in token_re.finditer(part):
                out.append(html.escape(part[pos : match.start()]))
                out.append(self._render_token(match.group(0), mentioned))
                pos = match.end()
            out.append(html.escape(part[pos:]))
            return "".join(out)

        paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
        rendered = "".join(
            "<p>" + "<br />".join(inline(line) for line in p.split("\n")) + "</p>"
            for p in paragraphs
        )
        return rendered, mentioned

    def _render_token(self, token: str, mentioned: list[_Account]) -> str:
        if token.startswith("@"):
            username, _, domain = token[1:].partition("@")
            account = self.find_account(username, domain or None)
            if account is None:
                return html.escape(token, quote=False)
            if account not in mentioned:
                mentioned.append(account)
            url = f"https://{account.domain or self.domain}/@{account.username}"
            return (
                f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">'
                f"@<span>{html.escape(account.username)}</span></a></span>"
            )
        if token.startswith("#"):
            tag = html.escape(token[1:])
            return (
                f'<a href="https://{self.domain}/tags/{tag.lower()}" class="mention hashtag" '
                f'rel="tag">#<span>{tag}</span></a>'
            )
        scheme, _, rest = token.partition("://")
        shown, hidden = rest[:30], rest[30:]
        middle = (
            f'<span class="ellipsis">{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(hidden)}</span>'
            if hidden
            else f'<span class="">{html.escape(shown)}</span>'
        )
        return (
            f'<a href="{html.escape(token)}" target="_blank" rel="nofollow noopener noreferrer" '
            f'translate="no"><span class="invisible">{scheme}://</span>{middle}</a>'
        )

    def create_status(
        self,
        author: _Account,
        text: str,
        *,
        visibility: str = "public",
        in_reply_to: _Status | None = None,
        spoiler_text: str = "",
        language: str | None = None,
    ) -> _Status:
        content, mentioned = self.render(text)
        status = _Status(
            id=self.next_id(),
            account=author,
            text=text,
            content=content,
            visibility=visibility,
            created_at=self.now(),
            in_reply_to_id=in_reply_to.id if in_reply_to else None,
            in_reply_to_account_id=in_reply_to.account.id if in_reply_to else None,
            mentions=mentioned,
            spoiler_text=spoiler_text,
            language=language,
        )
        self.statuses[status.id] = status
        for account in mentioned:
            if account is not author:
                self.notify("mention", account, author, status)
        return status

    def notify(
        self, kind: str, recipient: _Account, actor: _Account, status: _Status | None
    ) -> _Notification:
        notification = _Notification(
            self.next_id(), kind, self.now(), recipient.id, actor, status.id if status else None
        )
        self.notifications.append(notification)
        return notification

    def status_json(self, status: _Status, *, with_source: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": status.id,
            "uri": f"https://{self.domain}/users/{status.account.username}/statuses/{status.id}",
            "url": f"https://{self.domain}/@{status.account.username}/{status.id}",
            "created_at": _iso(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": bool(status.spoiler_text),
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "replies_count": sum(
                1 for s in self.statuses.values() if s.in_reply_to_id == status.id
            ),
            "reblogs_count": 0,
            "favourites_count": 0,
            "content": status.content,
            "reblog": None,
            "account": self.account_json(status.account),
            "media_attachments": [],
            "mentions": [
                {
                    "id": a.id,
                    "username": a.username,
                    "acct": a.acct(),
                    "url": f"https://{a.domain or self.domain}/@{a.username}",
                }
                for a in status.mentions
            ],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if with_source:
            body["text"] = status.text
        return body

    def notification_json(self, notification: _Notification) -> dict[str, Any]:
        status = self.statuses.get(notification.status_id or "")
        return {
            "id": notification.id,
            "type": notification.type,
            "created_at": _iso(notification.created_at),
            "account": self.account_json(notification.account),
            "status": self.status_json(status) if status else None,
        }

    def can_see(self, viewer: _Account, status: _Status) -> bool:
        if status.visibility in ("public", "unlisted") or status.account is viewer:
            return True
        return viewer in status.mentions or (
            status.visibility == "private" and status.in_reply_to_account_id == viewer.id
        )

    # -- limits ------------------------------------------------------------------------

    def take_rate_limit(self, token: str) -> tuple[bool, dict[str, str]]:
        """Count one call; returns (allowed, headers). Windows are aligned like Rack::Attack."""
        now = self.now()
        window_start = int(now.timestamp()) // self.rate_window * self.rate_window
        start, used = self._usage.get(token, (window_start, 0))
        if start != window_start:
            start, used = window_start, 0
        allowed = used < self.rate_limit
        if allowed:
            used += 1
        self._usage[token] = (start, used)
        reset = datetime.fromtimestamp(start + self.rate_window, UTC)
        reset = reset.replace(microsecond=now.microsecond)
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit - used)),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        return allowed, headers

    def take_fault(self, method: str, path: str) -> _Fault | None:
        self.faults = [f for f in self.faults if f.remaining > 0]
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None


class _Reject(Exception):
    """Ends a request early with ``response`` (bad token, rate limit, injected fault)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _text_length(text: str) -> int:
    """Mastodon's count: code points, a URL counts 23, a remote mention its local part."""
    text = _URL_RE.sub("x" * CHARACTERS_RESERVED_PER_URL, text)
    text = _MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    return len(text)


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
        else:
            form = await request.form()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
            kind = "form"
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
        if not text.strip():
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
        )
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

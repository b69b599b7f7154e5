"""State of the Mastodon emulator: accounts, statuses (rendered to Mastodon's HTML),
notifications, rate-limit counters and injected faults. The HTTP app is in
``socialdesk.channels.mastodon.emulator``."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CHARACTERS_RESERVED_PER_URL = 23

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
    # Media attachments (``POST /api/v2/media``), as the API shows them.
    media: list[dict[str, Any]] = field(default_factory=list)


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
        brand_id: str | None = None,
    ) -> None:
        self.domain = domain
        self.clock_offset = timedelta()
        self._last_id = 0
        self.accounts: dict[str, _Account] = {}
        self.statuses: dict[str, _Status] = {}
        self.notifications: list[_Notification] = []
        self.brand = self._new_account(brand_username, None, brand_display_name, 1200)
        if brand_id is not None:  # a brand that keeps its id across restarts (the demo's)
            del self.accounts[self.brand.id]
            self.brand.id = brand_id
            self.accounts[brand_id] = self.brand
        self.tokens: dict[str, str] = {access_token: self.brand.id}
        self.revoked: set[str] = set()
        self.idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.sent: list[dict[str, Any]] = []
        # Uploaded media by id: the owner, the attachment JSON, its bytes' size and type,
        # and the status it went out with (None until used).
        self.media: dict[str, dict[str, Any]] = {}
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
        media: list[dict[str, Any]] | None = None,
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
            media=list(media or []),
        )
        self.statuses[status.id] = status
        for account in mentioned:
            if account is not author:
                self.notify("mention", account, author, status)
        return status

    def import_status(
        self, author: _Account, status_id: str, text: str, visibility: str, parent_id: str | None
    ) -> _Status:
        """A status from before the emulator started: kept with its id, notifying nobody."""
        parent = self.statuses.get(parent_id or "")
        content, mentioned = self.render(text)
        status = _Status(
            id=status_id,
            account=author,
            text=text,
            content=content,
            visibility=visibility
            if visibility in ("public", "unlisted", "private", "direct")
            else "public",
            created_at=self.now(),
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account.id if parent else None,
            mentions=mentioned,
        )
        self.statuses.setdefault(status_id, status)
        self._last_id = max(self._last_id, int(status_id)) if status_id.isdigit() else self._last_id
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
            "media_attachments": list(status.media),
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


def _text_length(text: str) -> int:
    """Mastodon's count: code points, a URL counts 23, a remote mention its local part."""
    text = _URL_RE.sub("x" * CHARACTERS_RESERVED_PER_URL, text)
    text = _MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    return len(text)

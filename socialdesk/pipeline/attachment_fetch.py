"""The attachment fetch worker: copies inbound media from the network's URL into the
attachment storage (``store/file_storage.py``) before the link expires.

* candidates: inbound attachments of a media kind with a platform URL, nothing stored,
  not given up on, whose ``next_fetch_at`` has come (oldest first, a batch a pass);
* a link past its ``expires_at`` is not fetched: marked failed ("expired") at once;
* the body is streamed and cut off past ``SOCIALDESK_ATTACHMENT_MAX_BYTES`` (a declared
  ``Content-Length`` over the limit is refused before reading);
* the stored type is what the bytes show (``domain/media_types.sniff_mime``), else the
  declared one; the key is ``ws<workspace>/<sha256>``, so the same photo sent twice is
  one object, and two processes fetching one row at once store the same object;
* 401/403/404/410 and too-large fail the row for good; other errors and 5xx are tried
  again with backoff, at most ``max_attempts`` times, then the row fails with its reason.
  A failed row shows as "link expired" in the inbox and is never fetched again;
* a link (or a redirect) to this machine, a private network, link-local or other
  reserved addresses is refused unless ``SOCIALDESK_ATTACHMENT_FETCH_PRIVATE_HOSTS`` is
  on: the URL comes from outside, and the worker must not become a way to read internal
  services (SSRF). The host's addresses are resolved and every one is checked.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, update

from socialdesk.background import BackgroundWorker
from socialdesk.domain.attachments import AttachmentKind, mime
from socialdesk.domain.enums import Direction
from socialdesk.domain.media_types import sniff_mime
from socialdesk.store.db import Database, utcnow
from socialdesk.store.file_storage import FileStorage, StorageError
from socialdesk.store.models import Message, MessageAttachment, Ticket

log = logging.getLogger(__name__)

FETCHED_KINDS = tuple(
    str(kind)
    for kind in (
        AttachmentKind.IMAGE,
        AttachmentKind.VIDEO,
        AttachmentKind.AUDIO,
        AttachmentKind.FILE,
        AttachmentKind.STICKER,
        AttachmentKind.STORY_MENTION,
    )
)
_GONE = frozenset({401, 403, 404, 410})


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    max_bytes: int = 25_000_000
    max_attempts: int = 3
    first_backoff: timedelta = timedelta(minutes=1)
    batch: int = 20
    # Allow links to loopback and private addresses (the demo's and tests' emulators).
    private_hosts: bool = False

    def backoff(self, attempts: int) -> timedelta:
        return self.first_backoff * (4 ** max(0, attempts - 1))


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: int
    url: str
    expires_at: datetime | None
    attempts: int
    workspace_id: int


def internal_address_problem(url: str) -> str | None:
    """Why a media link must not be fetched (None when it may): not http(s), no host, a
    host that does not resolve, or one resolving to a non-public address."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "not an http(s) link"
    try:
        infos = socket.getaddrinfo(parsed.host, parsed.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return f"the host {parsed.host!r} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            return f"the link points at a non-public address ({address})"
    return None


class _Refused(Exception):
    """This link will not give the file: fail the row for good."""


class _Retry(Exception):
    """Maybe later: count the attempt and back off."""


class AttachmentFetchWorker(BackgroundWorker):
    name = "attachment_fetch"

    def __init__(
        self,
        db: Database,
        storage: FileStorage,
        policy: FetchPolicy | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = utcnow,
        interval: float = 5.0,
    ) -> None:
        super().__init__()
        self.db = db
        self.storage = storage
        self.policy = policy or FetchPolicy()
        self.client = client or httpx.Client(
            timeout=30, follow_redirects=True, event_hooks={"request": [self._check_request]}
        )
        self.clock = clock
        self.interval = interval

    def run_pass(self) -> bool:
        candidates = self.due(self.clock())
        for candidate in candidates:
            self.fetch_one(candidate)
        return len(candidates) == self.policy.batch

    def due(self, now: datetime) -> list[_Candidate]:
        a = MessageAttachment
        with self.db.session() as session:
            rows = session.execute(
                select(a.id, a.platform_url, a.expires_at, a.fetch_attempts, Ticket.workspace_id)
                .join(Message, Message.id == a.message_id)
                .join(Ticket, Ticket.id == Message.ticket_id)
                .where(
                    a.stored_key.is_(None),
                    a.fetch_failed_at.is_(None),
                    a.platform_url.is_not(None),
                    a.kind.in_(FETCHED_KINDS),
                    Message.direction == Direction.INBOUND,
                    or_(a.next_fetch_at.is_(None), a.next_fetch_at <= now),
                )
                .order_by(a.id)
                .limit(self.policy.batch)
            ).all()
        return [_Candidate(r[0], str(r[1]), r[2], r[3], r[4]) for r in rows]

    def fetch_one(self, candidate: _Candidate) -> None:
        now = self.clock()
        try:
            if candidate.expires_at is not None and candidate.expires_at <= now:
                raise _Refused("the network's link expired before it was fetched")
            self._check_host(candidate.url)
            data, declared = self._download(candidate.url)
            digest = hashlib.sha256(data).hexdigest()
            stored_type = sniff_mime(data[:64]) or declared or "application/octet-stream"
            key = f"ws{candidate.workspace_id}/{digest}"
            try:
                self.storage.put(key, data, stored_type)
            except StorageError as exc:
                raise _Retry(str(exc)) from None
        except _Refused as exc:
            self._record_failure(candidate, now, str(exc), final=True)
            return
        except _Retry as exc:
            final = candidate.attempts + 1 >= self.policy.max_attempts
            self._record_failure(candidate, now, str(exc), final=final)
            return
        with self.db.write() as session:
            session.execute(
                update(MessageAttachment)
                .where(MessageAttachment.id == candidate.id, MessageAttachment.stored_key.is_(None))
                .values(
                    stored_key=key,
                    stored_size=len(data),
                    sha256=digest,
                    stored_mime_type=stored_type[:100],
                    fetched_at=now,
                    fetch_attempts=candidate.attempts + 1,
                    next_fetch_at=None,
                    fetch_error=None,
                )
            )

    def _check_request(self, request: httpx.Request) -> None:
        """Every request the default client makes, redirects included."""
        self._check_host(str(request.url))

    def _check_host(self, url: str) -> None:
        if self.policy.private_hosts:
            return
        refusal = internal_address_problem(url)
        if refusal:
            raise _Refused(refusal)

    def _download(self, url: str) -> tuple[bytes, str | None]:
        limit = self.policy.max_bytes
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code in _GONE:
                    raise _Refused(f"the network answered HTTP {response.status_code}")
                if response.status_code != 200:
                    raise _Retry(f"the network answered HTTP {response.status_code}")
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > limit:
                    raise _Refused(f"larger than the {limit}-byte limit")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise _Refused(f"larger than the {limit}-byte limit")
                declared = mime(response.headers.get("content-type", "").split(";")[0])
                return bytes(body), declared
        except httpx.HTTPError as exc:
            raise _Retry(f"fetch failed: {type(exc).__name__}") from None

    def _record_failure(
        self, candidate: _Candidate, now: datetime, reason: str, final: bool
    ) -> None:
        attempts = candidate.attempts + 1
        log.info(
            "attachment %s not fetched (%s)%s", candidate.id, reason, "; giving up" if final else ""
        )
        with self.db.write() as session:
            session.execute(
                update(MessageAttachment)
                .where(MessageAttachment.id == candidate.id)
                .values(
                    fetch_attempts=attempts,
                    fetch_error=reason[:300],
                    fetch_failed_at=now if final else None,
                    next_fetch_at=None if final else now + self.policy.backoff(attempts),
                )
            )

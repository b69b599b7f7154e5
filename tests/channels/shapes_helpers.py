"""A running app with Facebook, Messenger, Instagram and X accounts, and signed webhook
deliveries into it over real HTTP, for the event-shape tests (test_event_shapes_*.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.channels.signatures import meta_signature, x_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, RawEventStatus
from socialdesk.store.db import Database
from socialdesk.store.models import Message, RawEvent, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

X_SECRET = "shapes_consumer_secret"
META_SECRET = "shapes_app_secret"
BRAND_X_ID = "2244994945"
PAGE_ID = "1029384756"
IG_ID = "17841400000000001"
T = 1_764_950_400  # 2025-12-05T16:00:00Z, in seconds


@dataclass
class Desk:
    client: httpx.Client
    db: Database
    accounts: dict[Platform, int]

    def post_meta(self, kind: str, *entries: dict[str, Any]) -> int:
        """A signed ``object: kind`` delivery; the id of the raw event it became."""
        body = json.dumps({"object": kind, "entry": list(entries)}).encode()
        return self._post(
            "/hooks/meta", body, {"X-Hub-Signature-256": meta_signature(META_SECRET, body)}
        )

    def post_x(self, payload: dict[str, Any]) -> int:
        body = json.dumps(payload).encode()
        return self._post(
            "/hooks/x", body, {"x-twitter-webhooks-signature": x_signature(X_SECRET, body)}
        )

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        before = self._last_raw_id()
        r = self.client.post(
            path, content=body, headers={"content-type": "application/json", **headers}
        )
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.db.session() as s:
                raw = s.scalar(
                    select(RawEvent).where(RawEvent.id > before, RawEvent.split_from_id.is_(None))
                )
                if raw is not None and raw.status != str(RawEventStatus.PENDING):
                    return raw.id
            time.sleep(0.05)
        raise AssertionError("the delivery was not processed in 10 s")

    def _last_raw_id(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(RawEvent.id).order_by(RawEvent.id.desc()).limit(1)) or 0)

    def raw(self, raw_id: int) -> RawEvent:
        with self.db.session() as s:
            raw = s.get(RawEvent, raw_id)
            assert raw is not None
            s.expunge(raw)
            return raw

    def split_from(self, raw_id: int) -> list[RawEvent]:
        with self.db.session() as s:
            rows = list(s.scalars(select(RawEvent).where(RawEvent.split_from_id == raw_id)))
            for row in rows:
                s.expunge(row)
            return rows

    def messages(self, raw_id: int | None = None) -> list[Message]:
        with self.db.session() as s:
            query = select(Message).order_by(Message.id)
            if raw_id is not None:
                query = query.where(Message.raw_event_id == raw_id)
            rows = list(s.scalars(query))
            for row in rows:
                s.expunge(row)
            return rows

    def message(self, platform_message_id: str) -> Message | None:
        with self.db.session() as s:
            row = s.scalar(
                select(Message).where(Message.platform_message_id == platform_message_id)
            )
            if row is not None:
                s.expunge(row)
            return row

    def ticket_count(self) -> int:
        with self.db.session() as s:
            return len(list(s.scalars(select(Ticket.id))))


@pytest.fixture
def desk(db: Database) -> Iterator[Desk]:
    accounts: dict[Platform, int] = {}
    with db.write() as s:
        ws = ensure_workspace(s)
        for platform, external_id, handle in (
            (Platform.X, BRAND_X_ID, "AcmeSupport"),
            (Platform.FACEBOOK, PAGE_ID, "Acme"),
            (Platform.MESSENGER, PAGE_ID, "Acme"),
            (Platform.INSTAGRAM, IG_ID, "acme_help"),
        ):
            account = create_channel_account(
                s,
                None,
                workspace_id=ws.id,
                platform=platform,
                handle=handle,
                external_id=external_id,
            )
            accounts[platform] = account.id
    settings = Settings(
        x_consumer_secret=X_SECRET, meta_app_secret=META_SECRET, meta_verify_token="verify-me"
    )
    with serve(create_app(settings, db)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Desk(client, db, accounts)

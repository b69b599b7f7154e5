"""The app (API, webhook, workers) and a Meta emulator on loopback, with the Page
connected as ``facebook`` (feed comments and Messenger) and an Instagram account, all
through the API. The app's delivery worker can be made to die between Meta's answer and
our commit, and a fresh worker run later, as a restarted process would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.channels.base import SendResult
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.config import Settings
from socialdesk.delivery.worker import Claim, DeliveryWorker
from socialdesk.domain.enums import Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database, utcnow
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve
from tests.delivery.helpers import PASSWORD, eventually

META_SECRET = "emulated_app_secret"
HOUR = 3600


class ProcessDied(RuntimeError):
    """Stands for the worker process dying after Meta accepted the send."""


class Crash:
    """The app's delivery worker hook: while armed, every send "dies" before commit
    (the worker logs the error and leaves the row ``sending`` until its lease runs out)."""

    def __init__(self) -> None:
        self.armed = False
        self.crashes = 0
        # Runs after each of Meta's answers (a test arranging what Meta does next).
        self.on_send: Callable[[SendResult], None] | None = None

    async def __call__(self, _claim: Claim, result: SendResult) -> None:
        if self.on_send is not None:
            self.on_send(result)
        if self.armed:
            self.crashes += 1
            raise ProcessDied("killed between Meta's answer and our commit")


class MetaDesk:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        api: httpx.Client,
        meta: httpx.Client,
        page_id: str,
        ig_id: str,
        crash: Crash,
    ) -> None:
        self.db = db
        self.settings = settings
        self.api = api
        self.meta = meta
        self.page_id = page_id
        self.ig_id = ig_id
        self.crash = crash

    def customer(self, kind: str, **body: Any) -> dict[str, Any]:
        response = self.meta.post(f"/_emulator/customer/{kind}", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def configure(self, **changes: Any) -> None:
        self.meta.put("/_emulator/config", json=changes).raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        self.meta.post("/_emulator/clock", json={"advance_seconds": seconds}).raise_for_status()

    def sent(self, endpoint: str) -> list[dict[str, Any]]:
        return [s for s in self.meta.get("/_emulator/sent").json() if s["endpoint"] == endpoint]

    def tickets(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.api.get("/tickets").json()["data"]
        return data

    def only_ticket(self, channel: str) -> dict[str, Any]:
        tickets = eventually(
            lambda: self.api.get("/tickets", params={"channel": channel}).json()["data"]
        )
        assert [t["platform"] for t in tickets] == [channel]
        ticket: dict[str, Any] = tickets[0]
        return ticket

    def detail(self, ticket_id: int) -> dict[str, Any]:
        detail: dict[str, Any] = self.api.get(f"/tickets/{ticket_id}").json()
        return detail

    def last_answer(self, ticket_id: int) -> dict[str, Any]:
        """The ticket's newest outbound message (messages are listed by their time, and
        the emulator's clock may run ahead of ours)."""
        outbound = [m for m in self.detail(ticket_id)["messages"] if m["direction"] == "outbound"]
        message: dict[str, Any] = max(outbound, key=lambda m: m["id"])
        return message

    def settled(self, ticket_id: int, *states: str) -> dict[str, Any]:
        """The ticket's newest answer once its delivery state is one of ``states``."""
        wanted = states or ("sent", "failed")
        message: dict[str, Any] = eventually(
            lambda: (m := self.last_answer(ticket_id))["delivery_state"] in wanted and m
        )
        return message

    def reply(
        self, ticket_id: int, body: str, *states: str, confirm: bool = False
    ) -> dict[str, Any]:
        """Answer through the API (the way the customer wrote) and wait for it;
        ``confirm``: a second public reply on purpose (else 409 within two minutes)."""
        created = self.api.post(
            f"/tickets/{ticket_id}/replies", json={"body": body, "confirm": confirm}
        )
        assert created.status_code == 201, created.text
        message = self.settled(ticket_id, *states)
        assert message["body"] == body
        return message

    def restarted_worker_pass(self) -> int:
        """One pass of a new delivery worker five minutes later, when the dead worker's
        claim has run out; how many rows it claimed."""
        later = DeliveryWorker(
            self.db,
            ConnectorRegistry(self.settings),
            clock=lambda: utcnow() + timedelta(minutes=5),
        )

        async def one_pass() -> int:
            try:
                return await later.run_once()
            finally:
                await later.close()

        return asyncio.run(one_pass())


@pytest.fixture
def meta_desk(db: Database) -> Iterator[MetaDesk]:
    with open_meta_desk(db) as desk:
        yield desk


@contextmanager
def open_meta_desk(db: Database, **settings_changes: Any) -> Iterator[MetaDesk]:
    """The desk and emulator of the ``meta_desk`` fixture; ``settings_changes`` (e.g. an
    ``attachment_folder`` for reply images) go into the app's settings."""
    with db.write() as s:
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=ensure_workspace(s))
    emulator = create_meta_emulator(META_SECRET, verify_token="vt", retry_delay_seconds=0.05)
    crash = Crash()
    with serve_app(emulator) as meta_url, httpx.Client(base_url=meta_url, timeout=30) as meta:
        page = meta.post("/_emulator/accounts", json={"kind": "page", "name": "Acme"}).json()
        ig = meta.post(
            "/_emulator/accounts", json={"kind": "instagram", "name": "acme", "username": "acme"}
        ).json()
        settings = Settings(
            meta_app_secret=META_SECRET,
            meta_verify_token="vt",
            meta_graph_base_url=meta_url,
            **settings_changes,
        )
        app = create_app(settings, db)
        app.state.delivery_worker = DeliveryWorker(
            db, ConnectorRegistry(settings), after_send=crash
        )
        with (
            serve(app) as base,
            httpx.Client(base_url=base + "/api/v1", timeout=30) as api,
        ):
            token = api.post(
                "/auth/token", json={"email": "admin@example.com", "password": PASSWORD}
            )
            api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            for platform, account in (("facebook", page), ("instagram", ig)):
                issued = meta.post("/_emulator/tokens", json={"account_id": account["id"]})
                created = api.post(
                    "/channel-accounts",
                    json={
                        "platform": platform,
                        "handle": account["name"],
                        "external_id": account["id"],
                        "secrets": {"access_token": issued.json()["access_token"]},
                    },
                )
                assert created.status_code == 201, created.text
            meta.put("/_emulator/webhook", json={"url": base + "/hooks/meta"}).raise_for_status()
            assert meta.post("/_emulator/webhook/verify").json()["valid"] is True
            yield MetaDesk(db, settings, api, meta, page["id"], ig["id"], crash)

"""Two ``socialdesk serve`` and two ``socialdesk worker`` processes on one database (each
server runs the workers too, as by default): customers write on X and Facebook (signed
webhooks from the emulators), agents answer every ticket through the API spread over
both servers, and each network receives each reply exactly once. The emulators count
every create call on arrival, so a second post refused by X's duplicate rule still
shows. The tickets arrive past their first-response target, so every process's SLA
scan finds the same breaches: each is recorded once, its rule fires once. Real child
processes, as a scaled install runs them (docs/deploy.md)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.domain.enums import Role
from socialdesk.emulators.server import serve_app
from socialdesk.store.db import Database
from socialdesk.store.models import Message, Notification, RawEvent, Ticket, TicketEvent
from tests.automation.test_automation_db import add_rule
from tests.delivery.helpers import PASSWORD, eventually
from tests.sla.helpers import add_policy

X_SECRET = "emulated_consumer_secret"
META_SECRET = "emulated_app_secret"
ROOT = Path(__file__).resolve().parents[2]
# The figure on PostgreSQL; SQLite (one writer for the whole file) proves the
# same with fewer, so the suite stays quick there.
REPLIES = 300 if os.environ.get("SOCIALDESK_TEST_BACKEND", "sqlite") != "sqlite" else 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Processes:
    servers: list[str]
    children: list[subprocess.Popen[bytes]]


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "socialdesk.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


@pytest.fixture
def processes(database_url: str, x_url: str, meta_url: str, tmp_path: Path) -> Iterator[Processes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "SOCIALDESK_DATABASE_URL": database_url,
        "SOCIALDESK_X_CONSUMER_SECRET": X_SECRET,
        "SOCIALDESK_X_API_BASE_URL": x_url,
        "SOCIALDESK_META_APP_SECRET": META_SECRET,
        "SOCIALDESK_META_VERIFY_TOKEN": "vt",
        "SOCIALDESK_META_GRAPH_BASE_URL": meta_url,
        "SOCIALDESK_SLA_SCAN_SECONDS": "1",
    }
    children: list[subprocess.Popen[bytes]] = []
    servers: list[str] = []
    try:
        for n in range(2):
            port = _free_port()
            children.append(_start(["serve", "--port", str(port)], env, tmp_path / f"serve{n}.log"))
            servers.append(f"http://127.0.0.1:{port}")
        for n in range(2):
            children.append(_start(["worker"], env, tmp_path / f"worker{n}.log"))
        for base, server in zip(servers, children[:2], strict=True):
            # Generous: four interpreters importing the app at once on a busy machine.
            eventually(lambda base=base, server=server: _healthy(base, server), timeout=300)
        yield Processes(servers, children)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _healthy(base: str, server: subprocess.Popen[bytes]) -> bool:
    if server.poll() is not None:
        raise AssertionError(f"the server on {base} exited with {server.returncode}")
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def x_emulator() -> Iterator[tuple[str, httpx.Client]]:
    app = create_x_emulator(X_SECRET, retry_delay_seconds=0.05)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield url, client


@pytest.fixture
def meta_emulator() -> Iterator[tuple[str, httpx.Client]]:
    app = create_meta_emulator(META_SECRET, verify_token="vt", retry_delay_seconds=0.05)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield url, client


@pytest.fixture
def x_url(x_emulator: tuple[str, httpx.Client]) -> str:
    return x_emulator[0]


@pytest.fixture
def meta_url(meta_emulator: tuple[str, httpx.Client]) -> str:
    return meta_emulator[0]


def _api(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base + "/api/v1", timeout=30)
    token = client.post("/auth/token", json={"email": "admin@example.com", "password": PASSWORD})
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def _connect(api: httpx.Client, platform: str, handle: str, external_id: str, token: str) -> None:
    created = api.post(
        "/channel-accounts",
        json={
            "platform": platform,
            "handle": handle,
            "external_id": external_id,
            "secrets": {"access_token": token},
        },
    )
    assert created.status_code == 201, created.text


def _count(db: Database, query: Any) -> int:
    with db.session() as s:
        return int(s.scalar(query) or 0)


def test_two_servers_and_two_workers_post_every_reply_once(
    db: Database,
    x_emulator: tuple[str, httpx.Client],
    meta_emulator: tuple[str, httpx.Client],
    request: pytest.FixtureRequest,
) -> None:
    with db.write() as s:
        workspace = ensure_workspace(s)
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=workspace)
        lead_id = create_user(s, "lead@example.com", PASSWORD, Role.LEAD, workspace=workspace).id
    # Every ticket is two hours old when it arrives, an hour past its first-response
    # target: the SLA scans all four processes run every second must each record the
    # breach once, and the breach rule fire once.
    add_policy(db, calendar=None)
    add_rule(
        db,
        name="tell the lead",
        event="sla_breach",
        conditions=[{"field": "sla_target", "op": "is", "value": "first_response"}],
        actions=[{"type": "notify", "user_id": lead_id, "message": "first response breached"}],
    )
    # The processes start only now: the admin exists before they read anything.
    procs: Processes = request.getfixturevalue("processes")
    _, x = x_emulator
    _, meta = meta_emulator
    apis = [_api(base) for base in procs.servers]

    for emulator in (x, meta):
        emulator.post("/_emulator/clock", json={"advance_seconds": -2 * 3600}).raise_for_status()
    # X allows 100 posts per 15 minutes per user; this desk may post them all at once
    # (a refused post would count as a POST too).
    limits = {"rate_limits": {"POST /2/tweets": 10 * REPLIES}}
    x.put("/_emulator/config", json=limits).raise_for_status()
    brand = x.post("/_emulator/users", json={"username": "AcmeSupport"}).json()
    x_token = x.post("/_emulator/tokens", json={"user_id": brand["id"]}).json()["access_token"]
    _connect(apis[0], "x", "AcmeSupport", brand["id"], x_token)
    page = meta.post("/_emulator/accounts", json={"kind": "page", "name": "Acme"}).json()
    page_token = meta.post("/_emulator/tokens", json={"account_id": page["id"]}).json()
    _connect(apis[1], "facebook", "Acme", page["id"], page_token["access_token"])
    # Webhooks reach one server each; any process may process them.
    x.put("/_emulator/webhook", json={"url": procs.servers[0] + "/hooks/x"}).raise_for_status()
    meta.put(
        "/_emulator/webhook", json={"url": procs.servers[1] + "/hooks/meta"}
    ).raise_for_status()

    def customers_write(n: int) -> None:
        mention = x.post(
            "/_emulator/customer/mention",
            json={"customer": {"username": f"customer{n}"}, "text": f"@AcmeSupport help {n}"},
        )
        assert mention.status_code == 200, mention.text
        comment = meta.post(
            "/_emulator/customer/page_comment",
            json={"customer": {"name": f"Customer {n}"}, "message": f"Where is order {n}?"},
        )
        assert comment.status_code == 200, comment.text

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(customers_write, range(REPLIES)))
    eventually(lambda: _count(db, select(func.count(Ticket.id))) == 2 * REPLIES, timeout=300)

    breached = select(func.count(TicketEvent.id)).where(TicketEvent.kind == "sla_breached")
    eventually(lambda: _count(db, breached) >= 2 * REPLIES, timeout=300)
    with db.session() as s:
        tickets = list(s.execute(select(Ticket.id, Ticket.platform).order_by(Ticket.id)))
    assert sorted({p for _, p in tickets}) == ["facebook", "x"]

    def answer(index: int) -> None:
        ticket_id = tickets[index][0]
        api = apis[index % 2]  # every other reply through the other server
        created = api.post(
            f"/tickets/{ticket_id}/replies", json={"body": f"On it, reply {ticket_id} is ours."}
        )
        assert created.status_code == 201, created.text

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(answer, range(len(tickets))))

    outbound = Message.direction == "outbound"

    def settled() -> bool:
        waiting = Message.delivery_state.in_(["queued", "sending"])
        return _count(db, select(func.count(Message.id)).where(outbound, waiting)) == 0

    eventually(settled, timeout=300)

    with db.session() as s:
        states = list(
            s.execute(
                select(
                    Message.delivery_state, Message.platform_message_id, Message.delivery_error
                ).where(outbound)
            )
        )
    assert len(states) == 2 * REPLIES
    assert [row for row in states if row[0] != "sent"] == []

    x_calls = x.get("/_emulator/requests").json()
    meta_calls = meta.get("/_emulator/requests").json()
    assert x_calls.get("POST /2/tweets", 0) == REPLIES
    assert (
        sum(n for k, n in meta_calls.items() if k.startswith("POST ") and k.endswith("/comments"))
        == REPLIES
    )
    # Each post the networks made is the one stored on its reply.
    made = {s["id"] for s in x.get("/_emulator/sent").json() if s["endpoint"] == "POST /2/tweets"}
    made |= {
        s["id"]
        for s in meta.get("/_emulator/sent").json()
        if s["endpoint"] == "POST /{id}/comments"
    }
    assert {pid for _, pid, _ in states} == made
    # Each breach, rule firing and notification once, however many processes scanned.
    assert _count(db, breached) == 2 * REPLIES
    fired = select(func.count(TicketEvent.id)).where(TicketEvent.kind == "rule_fired")
    assert _count(db, fired) == 2 * REPLIES
    assert _count(db, select(func.count(Notification.id))) == 2 * REPLIES
    # Every webhook delivery became its message; none left failed by a collision.
    failed = select(func.count(RawEvent.id)).where(RawEvent.status == "failed")
    assert _count(db, failed) == 0

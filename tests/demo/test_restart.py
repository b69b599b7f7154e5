"""A second `socialdesk demo` on the same database: new emulators (they keep nothing),
the same accounts connected again with fresh credentials, and the earlier run's
tickets still answerable on every network; the first posts are not posted twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from socialdesk.cli_demo import prepare_demo, running_demo
from socialdesk.config import Settings
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Ticket
from tests.delivery.helpers import eventually
from tests.demo.conftest import signed_in_api
from tests.demo.test_demo import _reply_and_settle

NETWORKS = ("facebook", "messenger", "instagram", "mastodon", "bluesky", "email", "web")


def _first_ticket(api: Any, channel: str, visibility: str | None = None) -> dict[str, Any]:
    def probe() -> list[dict[str, Any]]:
        tickets: list[dict[str, Any]] = api.get(
            "/tickets", params={"channel": channel, "status": "unsolved", "limit": 100}
        ).json()["data"]
        return tickets

    found: list[dict[str, Any]] = eventually(probe)
    return min(found, key=lambda t: t["id"])


def test_a_restarted_demo_answers_the_earlier_runs_tickets(
    db: Database, data_dir: Path, tmp_path: Path
) -> None:
    prepare_demo(db)
    state = tmp_path / "socialdesk-demo.json"
    with running_demo(db, Settings(), "127.0.0.1", 0, data_dir, state) as first:
        api = signed_in_api(first, "agent@example.com")
        earlier = {channel: _first_ticket(api, channel) for channel in NETWORKS}
    with db.session() as s:
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        tokens = dict(s.execute(select(ChannelAccount.id, ChannelAccount.secrets_encrypted)).all())
    assert not state.exists()  # removed when the demo stops

    with running_demo(db, Settings(), "127.0.0.1", 0, data_dir, state) as second:
        api = signed_in_api(second, "agent@example.com")
        for channel, ticket in earlier.items():
            answer = _reply_and_settle(api, ticket["id"], "Back with news: it ships today.")
            assert answer["delivery_state"] == "sent", (channel, answer["delivery_error"])
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Ticket)) == tickets
            renewed = dict(
                s.execute(select(ChannelAccount.id, ChannelAccount.secrets_encrypted)).all()
            )
            statuses = set(s.scalars(select(ChannelAccount.status)))
    assert statuses == {"active"}
    changed = [i for i, secret in renewed.items() if secret and secret != tokens.get(i)]
    assert changed  # new emulators, new credentials stored on the same accounts

"""The lead's live queue draws its numbers: queue per network, agents' load, posts per
hour and service levels met, each an accessible SVG beside its table."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.config import get_settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import User
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import PASSWORD, sign_in


def test_live_queue_charts(db: Database) -> None:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "lead@example.com", PASSWORD, Role.LEAD, name="Lee", workspace=ws)
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, name="Aki", workspace=ws)
        s.execute(update(User).values(on_shift=True, max_open_tickets=5))
    x = make_account(db)
    fb = make_account(db, Platform.FACEBOOK, "AcmePage")
    now = utcnow()
    for i, (account, platform) in enumerate(
        [(x, Platform.X), (x, Platform.X), (fb, Platform.FACEBOOK)]
    ):
        message = post(account, f"p{i}", "my order is late", author=f"c{i}", platform=platform)
        ingest(db, replace(message, created_at=now - timedelta(minutes=10 * i)))
    inbox_page.forget_counts()
    with TestClient(create_app(get_settings(), db), follow_redirects=False) as client:
        sign_in(client, "lead@example.com")
        page = client.get("/queue")
    assert page.status_code == 200
    charts = re.findall(r'<svg class="chart" role="img" aria-label="([^"]*)"', page.text)
    assert len(charts) == 3  # no service-level target has concluded yet: no empty chart
    queues, agents, volume = charts
    assert "Facebook: new 1" in queues and "X (Twitter): new 2" in queues
    assert "Aki: open tickets" not in agents  # nobody holds a ticket yet
    assert "Aki: none" in agents and 'class="limit"' in page.text
    assert "X (Twitter) 2" in volume or "X (Twitter) 1" in volume
    assert "3 posts received per hour" in page.text
    assert "No service-level target concluded in the last 7 days." in page.text

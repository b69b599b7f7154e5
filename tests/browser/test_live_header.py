"""The ticket header follows the ticket live: a change made elsewhere shows without a
reload (issue 12: after a reply the header stayed "new · due in 59 min")."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.actions.inbox import set_posting_right, submit_for_approval
from socialdesk.actions.tickets import set_status
from socialdesk.domain.enums import TicketStatus
from socialdesk.store.models import Contact, Ticket, User
from tests.browser.conftest import Site, sign_in
from tests.pipeline.helpers import ingest, make_account, post

pytestmark = pytest.mark.browser


def test_header_follows_a_status_change_made_by_someone_else(browser: Any, site: Site) -> None:
    account = make_account(site.db)
    ingest(site.db, post(account, "h1", "Is my parcel lost?", author="robin"))
    with site.db.write() as s:
        ticket = s.scalars(select(Ticket)).one()
        contact = s.get_one(Contact, ticket.contact_id)
        contact.email = "robin@example.org"
        ticket_id = ticket.id
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, site, "agent@example.com")
    page.wait_for_selector("#live-status.on")
    page.goto(f"{site.url}/tickets/{ticket_id}")
    page.wait_for_selector("#live-status.on")
    head = page.locator("#ticket-head .sub")
    assert head.inner_text().startswith("New")
    # The customer panel shows the address the desk knows.
    assert page.locator(".customer .contact-email").inner_text() == "robin@example.org"

    # A lead sets the ticket pending from another door; the open page follows.
    with site.db.write() as s:
        lead = s.get_one(User, site.ids["lead@example.com"])
        set_status(s, s.get_one(Ticket, ticket_id), lead, TicketStatus.PENDING)
    page.locator("#ticket-head .sub", has_text="Pending").wait_for(timeout=10_000)
    assert "New" not in head.inner_text()
    ctx.close()


def test_the_approvals_count_in_the_nav_follows_new_drafts(browser: Any, site: Site) -> None:
    account = make_account(site.db)
    ingest(site.db, post(account, "d1", "My order never came", author="kim"))
    with site.db.write() as s:
        admin = s.get_one(User, site.ids["admin@example.com"])
        agent = s.get_one(User, site.ids["agent@example.com"])
        set_posting_right(s, admin, agent, account, False)
        ticket = s.scalars(select(Ticket)).one()
    lead_ctx = browser.new_context()
    lead = lead_ctx.new_page()
    sign_in(lead, site, "lead@example.com")
    lead.wait_for_selector("#live-status.on")
    assert lead.locator("#approvals-count").inner_text().strip() == ""

    # An agent without posting rights answers: the reply becomes a draft, and the lead's
    # open page counts it without a reload.
    with site.db.write() as s:
        submit_for_approval(
            s,
            s.get_one(Ticket, ticket.id),
            s.get_one(User, site.ids["agent@example.com"]),
            "Hi Kim",
        )
    lead.locator("#approvals-count .badge", has_text="1").wait_for(timeout=10_000)
    # An agent's nav has no approvals link at all, and the count route is for reviewers.
    agent_ctx = browser.new_context()
    agent_page = agent_ctx.new_page()
    sign_in(agent_page, site, "agent@example.com")
    assert agent_page.locator("#approvals-count").count() == 0
    status = agent_page.evaluate("async () => (await fetch('/approvals/count')).status")
    assert status == 403
    lead_ctx.close()
    agent_ctx.close()


def test_the_live_queue_refreshes_itself(browser: Any, site: Site) -> None:
    account = make_account(site.db)
    ingest(site.db, post(account, "q1", "Where is my refund?", author="ana"))
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, site, "lead@example.com")
    page.goto(site.url + "/queue")
    page.wait_for_selector("#live-status.on")
    new_on_x = page.locator('.queue-channels tr[data-channel="x"] td').first
    assert new_on_x.inner_text() == "1"
    # Column headers are labels, not the statuses' code names.
    assert page.locator(".queue-channels thead th").nth(1).inner_text() == "New"

    # Another customer writes: the count follows without a reload.
    ingest(site.db, post(account, "q2", "My account is locked", author="bo", minutes=1))
    page.locator('.queue-channels tr[data-channel="x"] td', has_text="2").first.wait_for(
        timeout=10_000
    )
    ctx.close()

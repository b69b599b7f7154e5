"""In Chromium: an agent logs a phone call from the inbox, a lead sees it as its own
channel in the report and plans the week on the Staffing tab, with its CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from socialdesk.store.models import Ticket, TicketEvent
from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_an_agent_logs_a_call_and_a_lead_plans_staff(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, site, "agent@example.com")
    page.get_by_text("Log a contact").click()
    page.get_by_label("Channel", exact=True).select_option("phone")
    page.get_by_label("Customer's name").fill("Ann Caller")
    page.get_by_label("Phone", exact=True).fill("+44 20 7946 0000")
    page.get_by_label("Summary").fill("Asked where her refund is; it left on Monday")
    page.get_by_label("Handle time (minutes)").fill("6")
    page.get_by_label("Solved during the contact").check()
    page.get_by_role("button", name="Log contact").click()
    page.wait_for_url("**/tickets/*")
    assert "Asked where her refund is" in page.content()
    with site.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.platform == "phone")).one()
        assert ticket.status == "solved"
        handle = s.scalar(
            select(TicketEvent.data).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "contact_logged"
            )
        )
        assert handle is not None and handle["handle_seconds"] == 360
    page.close()

    lead = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    sign_in(lead, site, "lead@example.com")
    lead.goto(site.url + "/reports?by=channel")
    phone = lead.locator('table[data-table="overview"] tbody tr', has_text="phone")
    assert phone.count() == 1
    assert "6 m 00 s" in phone.inner_text()  # the handle time, beside the social channels
    lead.get_by_role("link", name="Staffing").click()
    lead.wait_for_url("**/reports/staffing")
    # The logged call measured the handle time the plan uses.
    assert lead.locator('[data-handle-source="measured"]').count() == 1
    lead.get_by_label("Answered (%)").fill("90")
    lead.get_by_label("Within (minutes)").fill("5")
    lead.get_by_role("button", name="Plan").click()
    lead.wait_for_url("**/reports/staffing?*target_percent=90*")
    assert lead.locator("svg.chart").count() == 1
    assert lead.locator('table[data-table="staffing-needed"] tbody tr').count() == 7
    lead.screenshot(path=str(tmp_path / "staffing.png"), full_page=True)
    with lead.expect_download() as info:
        lead.locator(".csv-link").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    assert len(rows) == 168 and rows[0]["day"] == "Mon"
    lead.close()

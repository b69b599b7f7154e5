"""The incident API: a recent surge notifies leads and marketing; holding replies are
personalised (no two alike), go through the normal reply door (approval without posting
rights, exactly once when asked again); closing; bad input is a 4xx with a reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from socialdesk.actions.admin import create_user
from socialdesk.actions.inbox import set_posting_right
from socialdesk.domain.enums import Role
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.triage_step import TriageStep
from socialdesk.radar.scan import scan
from socialdesk.replay.service import replay_twcs
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ApprovalDraft,
    ChannelAccount,
    Message,
    NotificationOutboxEntry,
    User,
    Workspace,
)
from tests.api.conftest import PASSWORD, Api
from tests.radar.airline_week import START, SURGE_DAY, posts, write_csv

CUT = START + timedelta(days=SURGE_DAY, hours=17)


def _surge_now(api: Api, tmp_path: Path) -> int:
    """A surge that is happening now: the week up to the surge's fifth hour, moved so its
    last post is a minute ago; the radar's pass; the incident's id."""
    with api.db.write() as s:
        ws = s.scalars(select(Workspace)).one()
        for email, role in (("lead@example.com", Role.LEAD), ("mk@example.com", Role.MARKETING)):
            create_user(s, email, PASSWORD, role, name="L", workspace=ws)
    items = [(at, text) for at, text in posts() if at < CUT]
    replay_twcs(
        api.db,
        write_csv(tmp_path / "now.csv", items),
        pipeline=Pipeline(steps=[TriageStep()]),
        end_at=utcnow() - timedelta(minutes=1),
    )
    result = scan(api.db)
    assert result is not None and len(result.raised) == 1
    return result.raised[0]


def test_a_live_surge_mails_leads_and_marketing(
    api: Api, tmp_path: Path, admin: httpx.Client
) -> None:
    incident_id = _surge_now(api, tmp_path)
    with api.db.session() as s:
        [mail] = s.scalars(select(NotificationOutboxEntry)).all()
    assert sorted(mail.recipients) == ["lead@example.com", "mk@example.com"]
    assert "Cancelled flight" in mail.subject
    assert f"/incidents/{incident_id}" in mail.body
    [listed] = admin.get("/incidents", params={"state": "open"}).json()
    assert listed["id"] == incident_id and listed["state"] == "open"


def test_holding_replies_are_personal_once_and_through_approval(
    api: Api, tmp_path: Path, admin: httpx.Client, agent: httpx.Client
) -> None:
    incident_id = _surge_now(api, tmp_path)
    tickets = admin.get(f"/incidents/{incident_id}").json()["tickets"]
    assert len(tickets) >= 20
    template = (
        "We're so sorry about the cancellations today. We're rebooking everyone as fast as we can."
    )
    r = admin.post(f"/incidents/{incident_id}/holding-replies", json={"template": template})
    assert r.status_code == 200, r.text
    sent = r.json()["sent"]
    # A ticket the brand answered in public a moment ago is left alone (the second-reply
    # guard of the reply door); every other one is answered.
    assert len(sent) + len(r.json()["skipped"]) == len(tickets), r.json()
    assert len(sent) >= len(tickets) - 2
    with api.db.session() as s:
        bodies = list(s.scalars(select(Message.body).where(Message.id.in_(sent))))
    assert len(set(bodies)) == len(bodies) == len(sent)  # never the same text twice
    assert all("rebooking everyone" in b for b in bodies)
    # Asked again: nothing is posted twice.
    again = admin.post(f"/incidents/{incident_id}/holding-replies", json={"template": template})
    assert sorted(again.json()["sent"]) == sorted(sent)
    with api.db.session() as s:
        assert (
            s.scalar(
                select(Message.id).where(
                    Message.id.not_in(sent), Message.body.contains("rebooking")
                )
            )
            is None
        )

    # An agent without posting rights drafts for a lead's approval instead.
    with api.db.write() as s:
        account = s.scalars(select(ChannelAccount)).first()
        admin_user = s.scalars(select(User).where(User.email == "admin@example.com")).one()
        agent_user = s.scalars(select(User).where(User.email == "agent@example.com")).one()
        assert account is not None
        set_posting_right(s, admin_user, agent_user, account.id, False)
    other = admin.get(f"/incidents/{incident_id}").json()
    r = agent.post(
        f"/incidents/{incident_id}/holding-replies",
        json={"template": "Hi {first_name}, about ticket {ticket}: we are on it."},
    )
    assert r.status_code == 200, r.text
    assert r.json()["sent"] == [] or len(r.json()["drafted"]) > 0
    with api.db.session() as s:
        drafts = list(s.scalars(select(ApprovalDraft.body)))
    assert len(drafts) == len(set(drafts)) > 0
    assert other["state"] == "open"


def test_close_and_bad_input(
    api: Api, tmp_path: Path, admin: httpx.Client, agent: httpx.Client
) -> None:
    incident_id = _surge_now(api, tmp_path)
    bad = admin.post(f"/incidents/{incident_id}/holding-replies", json={"template": "Hi {nope}"})
    assert bad.status_code == 422 and "{nope}" in bad.text
    assert (
        admin.post(f"/incidents/{incident_id}/holding-replies", json={"template": ""}).status_code
        == 422
    )
    assert admin.get("/incidents/999999").status_code == 404
    assert admin.get("/incidents", params={"state": "weird"}).status_code == 422
    assert agent.post(f"/incidents/{incident_id}/close").status_code == 403
    r = admin.post(f"/incidents/{incident_id}/close")
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert admin.post(f"/incidents/{incident_id}/close").status_code == 409
    # A closed incident stays closed when the radar passes again.
    scan(api.db)
    assert admin.get(f"/incidents/{incident_id}").json()["state"] == "closed"

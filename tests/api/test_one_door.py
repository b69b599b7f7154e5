"""One door for every rule: each rule of the desk gives the same answer whether the
write comes through the API (a bearer token) or through the pages (a signed-in form
post with CSRF), because both call the same action. Real HTTP, real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.actions.inbox import set_posting_right
from socialdesk.domain.enums import Role
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ApprovalDraft,
    AuditEntry,
    CsatResponse,
    Message,
    SavedFilter,
    Team,
    User,
)
from socialdesk.web.pages import inbox as inbox_page
from tests.api.doors import PASSWORD, Desk


def _no_posting_right(desk: Desk, who: str) -> None:
    with desk.db.write() as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.com"))
        user = s.scalar(select(User).where(User.email == f"{who}@example.com"))
        assert admin is not None and user is not None
        set_posting_right(s, admin, user, desk.account_id, False)


# -- posting rights -----------------------------------------------------------------


def test_a_reply_without_posting_right_becomes_a_draft_through_both_doors(desk: Desk) -> None:
    _no_posting_right(desk, "agent")
    with desk.api("agent") as api:
        r = api.post(f"/tickets/{desk.ticket_id}/replies", json={"body": "From the API"})
    assert r.status_code == 202, r.text
    draft = r.json()
    assert draft["state"] == "pending" and draft["ticket_id"] == desk.ticket_id
    assert draft["body"] == "From the API" and draft["visibility"] == "public"

    page = desk.page("agent")
    r = page.post(f"/tickets/{desk.ticket_id}/reply", {"body": "From the page"})
    assert r.status_code == 303, r.text

    # The same result: two pending drafts, nothing queued for X.
    assert desk.count(ApprovalDraft, ApprovalDraft.state == "pending") == 2
    assert desk.public_replies() == []
    # A reply that needs approval cannot be scheduled, through either door.
    later = (utcnow().replace(microsecond=0)).isoformat()
    with desk.api("agent") as api:
        r = api.post(
            f"/tickets/{desk.ticket_id}/replies",
            json={"body": "Later", "send_at": later.replace("+00:00", "Z")},
        )
    assert r.status_code == 422
    r = page.post(
        f"/tickets/{desk.ticket_id}/reply",
        {"body": "Later", "schedule": "1", "send_at": later},
    )
    assert r.status_code == 422


def test_move_to_private_without_posting_right_is_refused_through_both_doors(
    desk: Desk,
) -> None:
    _no_posting_right(desk, "agent")
    with desk.api("agent") as api:
        r = api.post(f"/tickets/{desk.ticket_id}/move-to-private", json={"mode": "invite"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "role_refused"
    r = desk.page("agent").post(f"/tickets/{desk.ticket_id}/private", {"mode": "invite"})
    assert r.status_code == 403
    assert desk.public_replies() == []


# -- the second-reply guard -----------------------------------------------------------


def test_a_second_public_reply_within_two_minutes_needs_confirm_through_both_doors(
    desk: Desk,
) -> None:
    with desk.api("lead") as api:
        assert (
            api.post(
                f"/tickets/{desk.ticket_id}/replies", json={"body": "We're on it!"}
            ).status_code
            == 201
        )

    with desk.api("agent") as api:
        r = api.post(f"/tickets/{desk.ticket_id}/replies", json={"body": "Second (API)"})
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "second_reply"
        assert error["details"]["earlier"]["body"] == "We're on it!"
        assert "Lead" in error["reason"]
    page = desk.page("agent")
    r = page.post(f"/tickets/{desk.ticket_id}/reply", {"body": "Second (page)"})
    assert r.status_code == 409 and "Send anyway" in r.text
    assert desk.public_replies() == ["We're on it!"]

    # Confirmed, each door sends.
    with desk.api("agent") as api:
        r = api.post(
            f"/tickets/{desk.ticket_id}/replies", json={"body": "Second (API)", "confirm": True}
        )
        assert r.status_code == 201, r.text
    r = page.post(f"/tickets/{desk.ticket_id}/reply", {"body": "Second (page)", "confirm": "1"})
    assert r.status_code == 303
    assert desk.public_replies() == ["We're on it!", "Second (API)", "Second (page)"]


# -- approvals re-checked against the thread ------------------------------------------


def test_approving_after_a_colleague_answered_asks_to_confirm_through_both_doors(
    desk: Desk,
) -> None:
    _no_posting_right(desk, "agent")
    with desk.api("agent") as api:
        first = api.post(f"/tickets/{desk.ticket_id}/replies", json={"body": "Draft one"})
        second = api.post(
            f"/tickets/{desk.ticket_id}/replies", json={"body": "Draft two", "confirm": True}
        )
    assert first.status_code == second.status_code == 202
    # Meanwhile a colleague answers in public.
    with desk.api("lead") as api:
        assert (
            api.post(
                f"/tickets/{desk.ticket_id}/replies", json={"body": "Colleague's answer"}
            ).status_code
            == 201
        )

    with desk.api("admin") as api:
        queue = api.get("/approvals").json()
        assert [d["body"] for d in queue] == ["Draft one", "Draft two"]
        assert [m["body"] for m in queue[0]["answered_since"]] == ["Colleague's answer"]
        r = api.post(f"/approvals/{first.json()['id']}/approve", json={})
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "answered_since_draft"
        assert r.json()["error"]["details"]["replies"][0]["body"] == "Colleague's answer"

    page = desk.page("admin")
    card = page.get("/approvals").text
    assert "Already answered since this draft was written" in card
    assert "Colleague&#39;s answer" in card
    draft_two = second.json()["id"]
    r = page.post(f"/approvals/{draft_two}", {"decision": "approve", "body": "Draft two"})
    assert r.status_code == 409 and "already replied in public" in r.text
    assert "Approve and send anyway" in r.text
    assert desk.public_replies() == ["Colleague's answer"]
    assert desk.count(ApprovalDraft, ApprovalDraft.state == "pending") == 2

    # Confirmed, each door sends.
    with desk.api("admin") as api:
        r = api.post(f"/approvals/{first.json()['id']}/approve", json={"confirm": True})
        assert r.status_code == 200, r.text
        assert r.json()["body"] == "Draft one"
    r = page.post(
        f"/approvals/{draft_two}", {"decision": "approve", "body": "Draft two", "confirm": "1"}
    )
    assert r.status_code == 303
    assert desk.public_replies() == ["Colleague's answer", "Draft one", "Draft two"]


def test_an_approval_with_no_reply_since_sends_at_once_through_both_doors(desk: Desk) -> None:
    _no_posting_right(desk, "agent")
    with desk.api("agent") as api:
        d1 = api.post(
            f"/tickets/{desk.ticket_id}/replies", json={"body": "DM one", "visibility": "private"}
        ).json()
        d2 = api.post(
            f"/tickets/{desk.ticket_id}/replies", json={"body": "DM two", "visibility": "private"}
        ).json()
    with desk.api("lead") as api:
        assert api.post(f"/approvals/{d1['id']}/approve", json={}).status_code == 200
        # An agent is no reviewer, through either door.
    with desk.api("agent") as api:
        assert api.post(f"/approvals/{d2['id']}/approve", json={}).status_code == 403
    assert (
        desk.page("agent").post(f"/approvals/{d2['id']}", {"decision": "approve"}).status_code
        == 403
    )
    r = desk.page("lead").post(f"/approvals/{d2['id']}", {"decision": "approve"})
    assert r.status_code == 303
    assert desk.count(ApprovalDraft, ApprovalDraft.state == "approved") == 2


# -- validation of teams and skills ---------------------------------------------------


@pytest.mark.parametrize("skills", [["not a skill"], ["language:"], [":es"]])
def test_team_skills_are_validated_through_both_doors(desk: Desk, skills: list[str]) -> None:
    with desk.api("admin") as api:
        r = api.post("/teams", json={"name": "Bad skills", "skills": skills})
    assert r.status_code == 422, r.text
    assert "dimension:value" in r.json()["error"]["reason"]
    r = desk.page("admin").post(
        "/settings/teams", {"name": "Bad skills", "skills": ", ".join(skills)}
    )
    assert r.status_code == 422
    assert "dimension:value" in r.text
    assert desk.count(Team) == 0


def test_a_team_is_stored_the_same_through_both_doors(desk: Desk) -> None:
    with desk.api("admin") as api:
        r = api.post("/teams", json={"name": "Spanish", "skills": [" Language:ES "]})
    assert r.status_code == 201 and r.json()["skills"] == ["language:es"]
    r = desk.page("admin").post("/settings/teams", {"name": "Billing", "skills": "Product:Billing"})
    assert r.status_code == 303
    with desk.db.session() as s:
        assert {name: skills for name, skills in s.execute(select(Team.name, Team.skills))} == {
            "Spanish": ["language:es"],
            "Billing": ["product:billing"],
        }
    # A name taken is refused the same way.
    with desk.api("admin") as api:
        assert api.post("/teams", json={"name": "Billing"}).status_code == 409
    assert desk.page("admin").post("/settings/teams", {"name": "Spanish"}).status_code == 409


# -- role checks: viewers read only -----------------------------------------------------


def test_a_viewer_reads_only_through_both_doors(desk: Desk) -> None:
    tid = desk.ticket_id
    viewer_id = desk.user_id("viewer")
    with desk.api("viewer") as api:
        assert api.get(f"/tickets/{tid}").status_code == 200
        refusals = [
            api.post(f"/tickets/{tid}/csat", json={"score": 5}),
            api.post(f"/tickets/{tid}/replies", json={"body": "hi"}),
            api.post(f"/tickets/{tid}/notes", json={"body": "hi"}),
            api.patch(f"/tickets/{tid}", json={"priority": "high"}),
            api.post("/saved-filters", json={"name": "mine", "query": {}}),
            api.patch(f"/agents/{viewer_id}/availability", json={"on_shift": False}),
            api.post("/teams", json={"name": "T"}),
        ]
    assert [r.status_code for r in refusals] == [403] * len(refusals), [r.text for r in refusals]
    page = desk.page("viewer")
    assert page.get(f"/tickets/{tid}").status_code == 200
    page_refusals = [
        page.post(f"/tickets/{tid}/reply", {"body": "hi"}),
        page.post(f"/tickets/{tid}/note", {"body": "hi"}),
        page.post(f"/tickets/{tid}/update", {"priority": "high"}),
        page.post("/inbox/saved-filters", {"name": "mine"}),
        page.post(f"/settings/agents/{viewer_id}", {"on_shift": ""}),
        page.post("/settings/teams", {"name": "T"}),
    ]
    assert [r.status_code for r in page_refusals] == [403] * len(page_refusals)
    assert desk.count(CsatResponse) == 0
    assert desk.count(Message, Message.direction != "inbound") == 0
    assert desk.count(SavedFilter) == 0 and desk.count(Team) == 0
    # An agent may record the customer's score.
    with desk.api("agent") as api:
        assert api.post(f"/tickets/{tid}/csat", json={"score": 4}).status_code == 201
    assert desk.count(CsatResponse) == 1


# -- saved filters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"account": "99999999999999999999"}, "account must be an id"),
        ({"team": "²"}, "team must be an id"),
        ({"q": "parcel\x00"}, "control character"),
    ],
)
def test_a_filter_that_cannot_run_is_refused_when_saved_through_both_doors(
    desk: Desk, query: dict[str, str], problem: str
) -> None:
    with desk.api("marketing") as api:
        r = api.post("/saved-filters", json={"name": "Broken", "query": query, "shared": True})
    assert r.status_code == 422 and problem in r.json()["error"]["reason"]
    r = desk.page("marketing").post(
        "/inbox/saved-filters", {"name": "Broken", "shared": "1", **query}
    )
    assert r.status_code == 422
    assert desk.count(SavedFilter) == 0


def _store_broken_shared_filter(desk: Desk, owner: str) -> int:
    """A shared filter the database cannot run, as one saved before saves were checked
    (a list where an id belongs fails on SQLite and PostgreSQL alike)."""
    with desk.db.write() as s:
        saved = SavedFilter(
            workspace_id=ensure_workspace(s).id,
            user_id=desk.user_id(owner),
            name="Broken",
            query={"team": [1, 2]},
            shared=True,
            created_at=utcnow(),
        )
        s.add(saved)
        s.flush()
        return saved.id


def test_a_filter_that_fails_later_is_skipped_and_an_admin_deletes_it(desk: Desk) -> None:
    broken = _store_broken_shared_filter(desk, "agent")
    with desk.api("lead") as api:
        good = api.post("/saved-filters", json={"name": "Good", "query": {}, "shared": True})
        assert good.status_code == 201
        listed = api.get("/saved-filters")
    assert listed.status_code == 200, listed.text
    by_name = {f["name"]: f for f in listed.json()}
    assert by_name["Good"]["count"] == 1 and by_name["Good"]["error"] is None
    assert by_name["Broken"]["count"] is None and "cannot run" in by_name["Broken"]["error"]
    inbox_page.forget_counts()
    page = desk.page("marketing")
    inbox = page.get("/inbox")
    assert inbox.status_code == 200
    assert f'data-saved-broken="{broken}"' in inbox.text
    assert f'data-saved-count="{good.json()["id"]}">1<' in inbox.text

    # Only the owner or an admin deletes a shared filter, through either door.
    with desk.api("lead") as api:
        assert api.delete(f"/saved-filters/{broken}").status_code == 403
    assert page.post(f"/inbox/saved-filters/{broken}", {"action": "delete"}).status_code == 403
    with desk.api("admin") as api:
        assert api.delete(f"/saved-filters/{broken}").status_code == 204
    other = _store_broken_shared_filter(desk, "marketing")
    admin_page = desk.page("admin")
    assert 'class="saved-admin-delete"' in admin_page.get("/inbox").text
    r = admin_page.post(f"/inbox/saved-filters/{other}", {"action": "delete"})
    assert r.status_code == 303
    assert desk.count(SavedFilter) == 1  # "Good" is left
    with desk.db.session() as s:
        deleted = s.scalars(
            select(AuditEntry.workspace_id).where(AuditEntry.action == "saved_filter.deleted")
        ).all()
    assert len(deleted) == 2 and None not in deleted


# -- audit entries carry their workspace ------------------------------------------------


def test_availability_audit_shows_only_in_its_own_workspace_through_both_doors(
    desk: Desk,
) -> None:
    with desk.db.write() as s:
        other = ensure_workspace(s, "other-brand")
        create_user(s, "admin2@example.com", PASSWORD, Role.ADMIN, name="Other", workspace=other)
    agent_id = desk.user_id("agent")
    with desk.api("agent") as api:  # the agent's own shift, through the API
        r = api.patch(f"/agents/{agent_id}/availability", json={"on_shift": False})
        assert r.status_code == 200, r.text
    page = desk.page("lead")  # and a lead through Settings → Teams
    assert (
        page.post(f"/settings/agents/{agent_id}", {"capacity": "3", "on_shift": "1"}).status_code
        == 303
    )

    with desk.db.session() as s:
        home = ensure_workspace(s).id
        entries = s.scalars(
            select(AuditEntry.workspace_id).where(AuditEntry.action == "user.availability")
        ).all()
    assert entries == [home, home]

    with desk.api("admin") as api:
        own = [e["action"] for e in api.get("/audit").json()]
    assert own.count("user.availability") == 2
    with desk.api("admin2") as api:
        theirs = [e["action"] for e in api.get("/audit").json()]
    assert "user.availability" not in theirs
    own_page = desk.page("admin").get("/settings/audit?action=user.availability").text
    assert own_page.count("<td>user.availability</td>") == 2
    their_page = desk.page("admin2").get("/settings/audit?action=user.availability").text
    assert "<td>user.availability</td>" not in their_page and "No entries" in their_page


def test_no_audit_entry_is_written_without_a_workspace(desk: Desk) -> None:
    """Everything the tests above did, plus role and activation changes: every entry
    in the log names its workspace."""
    with desk.db.write() as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.com"))
        agent = s.scalar(select(User).where(User.email == "agent@example.com"))
        assert admin and agent
        from socialdesk.actions.admin import change_role, set_user_active

        change_role(s, admin, agent, Role.LEAD)
        set_user_active(s, admin, agent, False)
    _no_posting_right(desk, "marketing")
    assert desk.count(AuditEntry, AuditEntry.workspace_id.is_(None)) == 0
    assert desk.count(AuditEntry) > 0

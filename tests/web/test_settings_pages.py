"""The settings area over HTTP: every form with good and bad input, CSRF, role checks,
and that each write went through its action (audit entry) into the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from socialdesk.automation.rules import out_of_hours_acknowledgement
from socialdesk.config import Settings, get_settings
from socialdesk.store.db import Database
from socialdesk.store.models import (
    AuditEntry,
    AutomationRule,
    SlaPolicy,
    Team,
    TeamMember,
    TeamRouting,
    Ticket,
    TicketTag,
    User,
    WebSession,
    Workspace,
)
from socialdesk.web.app import create_app
from socialdesk.wiring.pipeline import build_pipeline
from tests.pipeline.helpers import ingest, make_account, post
from tests.web.test_pages import PASSWORD, app_db, sign_in

__all__ = ["app_db"]  # the shared signed-up desk fixture


def _client(db: Database) -> TestClient:
    return TestClient(create_app(get_settings(), db), follow_redirects=False)


@pytest.fixture
def admin(app_db: Database) -> Iterator[tuple[TestClient, str]]:
    with _client(app_db) as c:
        yield c, sign_in(c, "admin@example.com")


def user_id(db: Database, email: str) -> int:
    with db.session() as s:
        return int(s.scalar(select(User.id).where(User.email == email)))


def audited(db: Database, action: str) -> int:
    with db.session() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


SECTIONS = ["/settings", "/settings/canned", "/settings/users", "/settings/teams"]
SECTIONS += ["/settings/rules", "/settings/rules/new", "/settings/sla", "/settings/sla/new"]
SECTIONS += ["/settings/audit", "/settings/deliveries"]


@pytest.mark.parametrize("path", SECTIONS)
def test_every_section_renders_with_the_left_nav(admin: tuple[TestClient, str], path: str) -> None:
    c, _ = admin
    r = c.get(path)
    assert r.status_code == 200, r.text
    nav = r.text[r.text.index('class="settings-nav"') :]
    for label in ("General", "Canned responses", "Users", "Teams", "Automation rules"):
        assert label in nav
    assert 'aria-current="page"' in nav


@pytest.mark.parametrize(
    ("email", "path", "status"),
    [
        ("agent@example.com", "/settings/users", 403),
        ("agent@example.com", "/settings/teams", 403),
        ("viewer@example.com", "/settings/sla", 403),
        ("lead@example.com", "/settings/users", 403),
        ("lead@example.com", "/settings/rules", 403),
        ("lead@example.com", "/settings/audit", 403),
        ("lead@example.com", "/settings/deliveries", 403),
        ("lead@example.com", "/settings/teams", 200),
        ("lead@example.com", "/settings/sla", 200),
        ("lead@example.com", "/settings/canned", 200),
        ("lead@example.com", "/settings", 303),
    ],
)
def test_roles(app_db: Database, email: str, path: str, status: int) -> None:
    with _client(app_db) as c:
        sign_in(c, email)
        r = c.get(path)
        assert r.status_code == status
        if status == 403:
            assert "Not allowed" in r.text and "settings" in r.text
        if status == 200:
            # Leads see only their sections in the nav.
            assert 'href="/settings/users"' not in r.text


def test_non_admin_posts_are_refused(app_db: Database) -> None:
    with _client(app_db) as c:
        token = sign_in(c, "agent@example.com")
        for path, data in (
            ("/settings/users", {"email": "x@example.com", "role": "admin"}),
            ("/settings/teams", {"name": "Sneaky"}),
            ("/settings/rules", {"name": "r", "event": "ticket_created"}),
            ("/settings/sla", {"name": "p"}),
        ):
            r = c.post(path, data={**data, "csrf_token": token})
            assert r.status_code == 403, path
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Team)) == 0
        assert s.scalar(select(User).where(User.email == "x@example.com")) is None


def test_forms_without_csrf_are_refused(admin: tuple[TestClient, str]) -> None:
    c, _ = admin
    r = c.post("/settings/teams", data={"name": "Billing"})
    assert r.status_code == 403
    assert "CSRF" in r.text


# -- users -----------------------------------------------------------------------------


def test_create_user_with_generated_password_shown_once(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    r = c.post(
        "/settings/users",
        data={"csrf_token": token, "email": "New@Example.com", "name": "Nia New", "role": "agent"},
    )
    assert r.status_code == 200
    match = re.search(r'id="generated-password">([^<]+)<', r.text)
    assert match, r.text
    assert "shown only this once" in r.text
    assert match.group(1) not in c.get("/settings/users").text
    with _client(app_db) as other:
        sign_in(other, "new@example.com", match.group(1))
    assert audited(app_db, "user.created") == 5


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"email": "not-an-address", "role": "agent"}, 422, "not an e-mail address"),
        ({"email": "agent@example.com", "role": "agent"}, 409, "already exists"),
        ({"email": "z@example.com", "role": "boss"}, 422, "role is one of"),
        ({"email": "z@example.com", "role": "agent", "password": "short"}, 422, "password"),
    ],
)
def test_create_user_bad_input_is_shown_on_the_form(
    admin: tuple[TestClient, str], data: dict[str, str], status: int, message: str
) -> None:
    c, token = admin
    r = c.post("/settings/users", data={**data, "csrf_token": token})
    assert r.status_code == status
    assert 'role="alert"' in r.text and message in r.text
    assert f'value="{data["email"]}"' in r.text  # what was typed stays


def test_change_role_and_last_admin_is_kept(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    agent = user_id(app_db, "agent@example.com")
    r = c.post(f"/settings/users/{agent}/role", data={"csrf_token": token, "role": "lead"})
    assert r.status_code == 303
    with app_db.session() as s:
        assert s.get_one(User, agent).role == "lead"
    me = user_id(app_db, "admin@example.com")
    r = c.post(f"/settings/users/{me}/role", data={"csrf_token": token, "role": "agent"})
    assert r.status_code == 409 and "last active admin" in r.text
    r = c.post(f"/settings/users/{agent}/role", data={"csrf_token": token, "role": "owner"})
    assert r.status_code == 422
    assert audited(app_db, "user.role_changed") == 1


def test_deactivate_ends_sessions_refuses_sign_in_and_unassigns(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    agent = user_id(app_db, "agent@example.com")
    account = make_account(app_db)
    ingest(app_db, post(account, "p1", "Where is my parcel?", author="sam"))
    with app_db.write() as s:
        ticket = s.scalars(select(Ticket)).one()
        ticket.assignee_id = agent
    with _client(app_db) as agent_client:
        sign_in(agent_client, "agent@example.com")
        page = c.get("/settings/users").text
        row = page[page.index(f'id="user-{agent}"') :]
        assert "unassign their 1 open tickets" in row[: row.index("</tr>")]
        r = c.post(f"/settings/users/{agent}/active", data={"csrf_token": token, "unassign": "1"})
        assert r.status_code == 303
        # The agent's open browser is signed out on its next request.
        assert agent_client.get("/inbox").status_code == 303
    with app_db.session() as s:
        assert s.get_one(User, agent).is_active is False
        assert (
            s.scalar(
                select(func.count()).select_from(WebSession).where(WebSession.user_id == agent)
            )
            == 0
        )
        assert s.scalars(select(Ticket)).one().assignee_id is None
    with _client(app_db) as again:
        r = again.post(
            "/login",
            data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": _login(again)},
        )
        assert r.status_code == 401
    assert "deactivated" in c.get("/settings/users").text
    r = c.post(f"/settings/users/{agent}/active", data={"csrf_token": token, "active": "1"})
    assert r.status_code == 303
    with app_db.session() as s:
        assert s.get_one(User, agent).is_active is True
    assert audited(app_db, "user.deactivated") == 1 and audited(app_db, "user.activated") == 1
    assert audited(app_db, "ticket.unassigned") == 1


def _login(c: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert match
    return match.group(1)


def test_admin_cannot_deactivate_themselves(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    me = user_id(app_db, "admin@example.com")
    r = c.post(f"/settings/users/{me}/active", data={"csrf_token": token})
    assert r.status_code == 409 and "yourself" in r.text
    r = c.post("/settings/users/99999/active", data={"csrf_token": token})
    assert r.status_code == 404


def test_unassign_button_for_a_deactivated_users_tickets(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    agent = user_id(app_db, "agent@example.com")
    account = make_account(app_db)
    ingest(
        app_db, post(account, "p1", "Hello?", author="kim"), post(account, "p2", "Hi", author="lee")
    )
    with app_db.write() as s:
        for ticket in s.scalars(select(Ticket)):
            ticket.assignee_id = agent
    c.post(f"/settings/users/{agent}/active", data={"csrf_token": token})
    assert "Unassign the 2 open tickets" in c.get("/settings/users").text
    assert (
        c.post(f"/settings/users/{agent}/unassign", data={"csrf_token": token}).status_code == 303
    )
    with app_db.session() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.assignee_id.is_not(None))
            )
            == 0
        )


def test_posting_rights_stay_under_users(admin: tuple[TestClient, str], app_db: Database) -> None:
    c, token = admin
    account = make_account(app_db)
    agent = user_id(app_db, "agent@example.com")
    assert "@AcmeSupport: posts" in c.get("/settings/users").text
    r = c.post(
        "/settings/posting-rights",
        data={"csrf_token": token, "user_id": agent, "channel_account_id": account, "can_post": ""},
    )
    assert r.status_code == 303
    assert "@AcmeSupport: needs approval" in c.get("/settings/users").text


# -- teams -----------------------------------------------------------------------------


def test_lead_creates_and_configures_a_team(app_db: Database) -> None:
    agent = user_id(app_db, "agent@example.com")
    with _client(app_db) as c:
        token = sign_in(c, "lead@example.com")
        r = c.post(
            "/settings/teams",
            data={"csrf_token": token, "name": "Billing", "skills": "language:de"},
        )
        assert r.status_code == 303
        team_path = r.headers["location"]
        other = c.post("/settings/teams", data={"csrf_token": token, "name": "Tier 2"})
        other_id = int(other.headers["location"].rsplit("/", 1)[1])
        assert "Billing" in c.get(team_path).text
        r = c.post(
            team_path,
            data={
                "csrf_token": token,
                "name": "Billing DE",
                "skills": "language:de, channel:x",
                "strategy": "round_robin",
                "overflow_team_id": str(other_id),
                "routing_enabled": "1",
                "members": [str(agent)],
            },
        )
        assert r.status_code == 303, r.text
        listing = c.get("/settings/teams").text
    assert "Billing DE" in listing and "Round robin" in listing and "Sam" not in listing
    with app_db.session() as s:
        team = s.scalar(select(Team).where(Team.name == "Billing DE"))
        assert team is not None and team.skills == ["channel:x", "language:de"]
        routing = s.get_one(TeamRouting, team.id)
        assert (routing.strategy, routing.overflow_team_id, routing.enabled) == (
            "round_robin",
            other_id,
            True,
        )
        assert list(s.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id))) == [
            agent
        ]
    assert audited(app_db, "team.created") == 2
    assert audited(app_db, "team.renamed") == 1 and audited(app_db, "team.routing") == 1


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"name": "Billing", "skills": "german"}, 422, "dimension:value"),
        ({"name": "Support"}, 409, "already exists"),
        ({"name": "   "}, 422, "needs a name"),
        ({"name": "Billing", "strategy": "random"}, 422, "strategy is one of"),
    ],
)
def test_team_form_errors(
    admin: tuple[TestClient, str], app_db: Database, data: dict[str, str], status: int, message: str
) -> None:
    c, token = admin
    c.post("/settings/teams", data={"csrf_token": token, "name": "Support"})
    with app_db.session() as s:
        support = s.scalar(select(Team.id).where(Team.name == "Support"))
    if "strategy" in data:
        r = c.post(f"/settings/teams/{support}", data={"csrf_token": token, **data})
    else:
        r = c.post("/settings/teams", data={"csrf_token": token, **data})
    assert r.status_code == status
    assert 'role="alert"' in r.text and message in r.text
    with app_db.session() as s:
        assert list(s.scalars(select(Team.name))) == ["Support"]


def test_delete_team_refused_while_a_rule_uses_it(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    c.post("/settings/teams", data={"csrf_token": token, "name": "Orders"})
    with app_db.session() as s:
        team = int(s.scalar(select(Team.id)))
    r = c.post(
        "/settings/rules",
        data={
            **rule_form("Route orders", "add_tag", "x"),
            "csrf_token": token,
            "act-1-type": "assign_team",
            "act-1-team": str(team),
        },
    )
    assert r.status_code == 303, r.text
    r = c.post(f"/settings/teams/{team}/delete", data={"csrf_token": token})
    assert r.status_code == 409 and "Route orders" in r.text
    with app_db.write() as s:
        s.execute(AutomationRule.__table__.delete())
    assert c.post(f"/settings/teams/{team}/delete", data={"csrf_token": token}).status_code == 303
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Team)) == 0


def test_capacity_and_shift(admin: tuple[TestClient, str], app_db: Database) -> None:
    c, token = admin
    agent = user_id(app_db, "agent@example.com")
    r = c.post(f"/settings/agents/{agent}", data={"csrf_token": token, "capacity": "3"})
    assert r.status_code == 303
    with app_db.session() as s:
        assert (s.get_one(User, agent).max_open_tickets, s.get_one(User, agent).on_shift) == (
            3,
            False,
        )
    c.post(f"/settings/agents/{agent}", data={"csrf_token": token, "capacity": "", "on_shift": "1"})
    with app_db.session() as s:
        assert (s.get_one(User, agent).max_open_tickets, s.get_one(User, agent).on_shift) == (
            None,
            True,
        )
    r = c.post(f"/settings/agents/{agent}", data={"csrf_token": token, "capacity": "-2"})
    assert r.status_code == 422 and "whole number" in r.text


# -- automation rules ------------------------------------------------------------------


def rule_form(name: str, action: str, value: str, **extra: str) -> dict[str, str]:
    form = {
        "name": name,
        "event": "ticket_created",
        "position": "1",
        "enabled": "1",
        "cond-0-field": "text",
        "cond-0-op": "contains",
        "cond-0-value": "refund",
        "cond-1-field": "",
        "cond-1-op": "",
        "cond-1-value": "",
        "act-0-type": action,
        "act-0-value": value,
        "act-0-team": "",
        "act-0-user": "",
        "act-0-to": "",
        "act-1-type": "",
    }
    return {**form, **extra}


def test_rule_created_in_the_editor_fires_and_shows_last_fired(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    r = c.post(
        "/settings/rules",
        data={**rule_form("Tag refunds", "add_tag", "refund"), "csrf_token": token},
    )
    assert r.status_code == 303, r.text
    with app_db.session() as s:
        rule = s.scalars(select(AutomationRule)).one()
        assert (rule.event, rule.position, rule.enabled) == ("ticket_created", 1, True)
        assert rule.conditions == [{"field": "text", "op": "contains", "value": "refund"}]
        assert rule.actions == [{"type": "add_tag", "tag": "refund"}]
    assert "never" in c.get("/settings/rules").text
    account = make_account(app_db)
    ingest(app_db, post(account, "p1", "I want a refund now"), pipeline=build_pipeline(Settings()))
    with app_db.session() as s:
        assert list(s.scalars(select(TicketTag.tag))) == ["refund"]
    listing = c.get("/settings/rules").text
    row = listing[listing.index(f'id="rule-{rule.id}"') :]
    assert "never" not in row[: row.index("</tr>")] and " UTC" in row[: row.index("</tr>")]
    # The editor shows the stored rule back.
    editor = c.get(f"/settings/rules/{rule.id}").text
    assert 'value="refund"' in editor and 'value="add_tag" selected' in editor


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event": "whenever"}, "event must be one of"),
        ({"cond-0-field": "colour"}, "unknown field &#39;colour&#39;"),
        ({"cond-0-op": "gte"}, "conditions[0].op: text takes contains"),
        (
            {"cond-0-field": "follower_count", "cond-0-op": "gte", "cond-0-value": "many"},
            "a whole number",
        ),
        ({"cond-0-field": "vip", "cond-0-op": "is", "cond-0-value": "perhaps"}, "true or false"),
        ({"cond-0-value": "", "cond-0-op": "matches"}, "a non-empty string"),
        ({"act-0-type": "add_tag", "act-0-value": ""}, "add_tag needs tag"),
        ({"act-0-type": "assign_team"}, "assign_team needs team_id"),
        ({"act-0-type": "set_priority", "act-0-value": "asap"}, "priority: one of"),
        ({"act-0-type": ""}, "actions: a non-empty list"),
        (
            {"event": "sla_breach", "act-0-type": "send_canned_reply", "act-0-value": "Hi"},
            "SLA events cannot",
        ),
        ({"name": "  "}, "a rule needs a name"),
    ],
)
def test_rule_editor_shows_validation_errors_next_to_the_form(
    admin: tuple[TestClient, str], app_db: Database, changes: dict[str, str], message: str
) -> None:
    c, token = admin
    r = c.post(
        "/settings/rules", data={**rule_form("Bad", "add_tag", "x"), **changes, "csrf_token": token}
    )
    assert r.status_code == 422
    assert 'id="form-error"' in r.text and message in r.text
    assert 'id="rule-form"' in r.text  # the editor again, not an error page
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(AutomationRule)) == 0


def test_out_of_hours_acknowledgement_from_the_form(
    admin: tuple[TestClient, str], app_db: Database
) -> None:
    c, token = admin
    editor = c.get("/settings/rules/new?preset=out_of_hours").text
    form = form_defaults(editor, "rule-form")
    assert form["name"] == "Out-of-hours acknowledgement"
    r = c.post("/settings/rules", data={**form, "csrf_token": token})
    assert r.status_code == 303, r.text
    expected = out_of_hours_acknowledgement()
    with app_db.session() as s:
        rule = s.scalars(select(AutomationRule)).one()
        assert rule.name == "Out-of-hours acknowledgement"
        assert rule.conditions == expected["conditions"]
        assert rule.actions == expected["actions"]


class _FormReader(HTMLParser):
    """What a browser would submit for one form, untouched: text inputs, checked boxes,
    selected options, textareas."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data[name] = a.get("value", "")
        elif tag == "select":
            self.select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.data[self.textarea] += data


def form_defaults(html: str, form_id: str) -> dict[str, str]:
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.data, f"no form {form_id}"
    return dict(reader.data)


def test_enable_disable_delete_rule(admin: tuple[TestClient, str], app_db: Database) -> None:
    c, token = admin
    c.post("/settings/rules", data={**rule_form("Tag", "add_tag", "x"), "csrf_token": token})
    with app_db.session() as s:
        rule = int(s.scalar(select(AutomationRule.id)))
    c.post(f"/settings/rules/{rule}/enabled", data={"csrf_token": token})
    assert "Enable rule Tag" in c.get("/settings/rules").text
    c.post(f"/settings/rules/{rule}/enabled", data={"csrf_token": token, "enabled": "1"})
    with app_db.session() as s:
        assert s.get_one(AutomationRule, rule).enabled is True
    r = c.post(
        f"/settings/rules/{rule}",
        data={**rule_form("Tag v2", "set_priority", "high"), "csrf_token": token},
    )
    assert r.status_code == 303
    with app_db.session() as s:
        assert s.get_one(AutomationRule, rule).actions == [
            {"type": "set_priority", "priority": "high"}
        ]
    assert c.post(f"/settings/rules/{rule}/delete", data={"csrf_token": token}).status_code == 303
    assert c.get(f"/settings/rules/{rule}").status_code == 404
    assert audited(app_db, "automation_rule.disabled") == 1
    assert audited(app_db, "automation_rule.enabled") == 1
    assert audited(app_db, "automation_rule.deleted") == 1


def test_more_rows_saves_nothing(admin: tuple[TestClient, str], app_db: Database) -> None:
    c, token = admin
    r = c.post(
        "/settings/rules",
        data={**rule_form("Tag", "add_tag", "x"), "more": "1", "csrf_token": token},
    )
    assert r.status_code == 200 and 'name="cond-2-field"' in r.text
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(AutomationRule)) == 0


# -- SLA policies ----------------------------------------------------------------------


def policy_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "name": "Social",
        "position": "0",
        "enabled": "1",
        "channels": ["x", "instagram"],
        "warn_percent": "80",
        "t-0-channel": "",
        "t-0-priority": "",
        "t-0-first": "60",
        "t-0-next": "",
        "t-0-resolution": "1440",
        "t-1-channel": "x",
        "t-1-priority": "urgent",
        "t-1-first": "15",
        "t-1-next": "30",
        "t-1-resolution": "",
        "t-2-channel": "",
        "t-2-priority": "",
        "t-2-first": "",
        "t-2-next": "",
        "t-2-resolution": "",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "custom_holidays": "2026-12-24, 2026-12-31",
        **{f"hours-{d}": "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        "hours-sat": "10:00-12:00, 13:00-14:00",
        "hours-sun": "",
    }
    return {**form, **changes}


def test_lead_creates_and_edits_a_policy(app_db: Database) -> None:
    with _client(app_db) as c:
        token = sign_in(c, "lead@example.com")
        r = c.post("/settings/sla", data={**policy_form(), "csrf_token": token})
        assert r.status_code == 303, r.text
        with app_db.session() as s:
            policy = s.scalars(select(SlaPolicy)).one()
            assert policy.channels == ["instagram", "x"] and policy.warn_share == 0.8
            assert policy.targets == [
                {
                    "channel": None,
                    "priority": None,
                    "first_response_minutes": 60,
                    "next_response_minutes": None,
                    "resolution_minutes": 1440,
                },
                {
                    "channel": "x",
                    "priority": "urgent",
                    "first_response_minutes": 15,
                    "next_response_minutes": 30,
                    "resolution_minutes": None,
                },
            ]
            assert policy.calendar == {
                "timezone": "Europe/Berlin",
                "country": "DE",
                "custom_holidays": ["2026-12-24", "2026-12-31"],
                "hours": {
                    **{d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                    "sat": [["10:00", "12:00"], ["13:00", "14:00"]],
                    "sun": [],
                },
            }
        editor = c.get(f"/settings/sla/{policy.id}").text
        assert 'value="10:00-12:00, 13:00-14:00"' in editor and 'value="80"' in editor
        r = c.post(
            f"/settings/sla/{policy.id}",
            data={
                **policy_form(
                    name="Social 24/7", always_open="1", timezone="", country="", custom_holidays=""
                ),
                "csrf_token": token,
            },
        )
        assert r.status_code == 303, r.text
        with app_db.session() as s:
            policy = s.scalars(select(SlaPolicy)).one()
            assert policy.name == "Social 24/7" and policy.calendar is None
        assert "24/7" in c.get("/settings/sla").text
        assert (
            c.post(f"/settings/sla/{policy.id}/delete", data={"csrf_token": token}).status_code
            == 303
        )
    assert audited(app_db, "sla_policy.created") == 1
    assert audited(app_db, "sla_policy.updated") == 1 and audited(app_db, "sla_policy.deleted") == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"t-0-first": "soon"}, "a positive number of minutes"),
        ({"t-0-first": "-5"}, "a positive number of minutes"),
        ({"t-1-channel": "", "t-1-priority": ""}, "a second row"),
        ({"hours-mon": "9am-5pm"}, "is not a time like"),
        ({"hours-tue": "09:00"}, "each interval is [start, end]"),
        ({"custom_holidays": "christmas"}, "is not a date"),
        ({"warn_percent": "150"}, "warn_share is a share"),
        ({"warn_percent": "lots"}, "warn_share is a share"),
        ({"name": " "}, "a policy needs a name"),
        (
            {
                "t-0-first": "",
                "t-0-resolution": "",
                "t-1-channel": "",
                "t-1-priority": "",
                "t-1-first": "",
                "t-1-next": "",
            },
            "targets: give at least one row",
        ),
    ],
)
def test_policy_form_errors(
    admin: tuple[TestClient, str], app_db: Database, changes: dict[str, str], message: str
) -> None:
    c, token = admin
    r = c.post("/settings/sla", data={**policy_form(**changes), "csrf_token": token})
    assert r.status_code == 422, r.text
    assert 'id="form-error"' in r.text and message in r.text and 'id="policy-form"' in r.text
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(SlaPolicy)) == 0


def test_social_cuts_the_line_setting(admin: tuple[TestClient, str], app_db: Database) -> None:
    c, token = admin
    assert 'name="social_cuts_line" value="1" checked' in c.get("/settings/sla").text
    assert c.post("/settings/sla/workspace", data={"csrf_token": token}).status_code == 303
    with app_db.session() as s:
        ws = s.scalars(select(Workspace)).one()
        assert ws.settings["service_levels"]["social_cuts_line"] is False
    assert 'name="social_cuts_line" value="1" checked' not in c.get("/settings/sla").text


# -- audit log -------------------------------------------------------------------------


def test_audit_log_filters_and_pages(admin: tuple[TestClient, str], app_db: Database) -> None:
    c, token = admin
    for i in range(55):
        c.post("/settings/teams", data={"csrf_token": token, "name": f"Team {i:02d}"})
    me = user_id(app_db, "admin@example.com")
    first = c.get(f"/settings/audit?actor={me}&action=team.created").text
    assert first.count("<td>team.created</td>") == 50
    assert "Team 54" in first and "Team 04" not in first  # newest first
    match = re.search(r'href="(/settings/audit\?[^"]+before=\d+)"', first)
    assert match
    second = c.get(match.group(1).replace("&amp;", "&")).text
    assert second.count("<td>team.created</td>") == 5 and "Team 00" in second
    assert "Older entries" not in second
    # Prefix filter and "system" actor.
    assert "user.created" in c.get("/settings/audit?action=user.").text
    system = c.get("/settings/audit?actor=system").text
    assert "team.created" not in system and "workspace.created" in system

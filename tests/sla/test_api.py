"""The service-levels API over real HTTP: policies, rules, routing, at-risk, live queue."""

from __future__ import annotations

import httpx

from socialdesk.config import Settings
from socialdesk.wiring.pipeline import build_pipeline
from tests.api.conftest import Api
from tests.pipeline.helpers import ingest, make_account, post
from tests.sla.helpers import NY_OFFICE, TARGETS


def test_policy_crud_and_validation(admin: httpx.Client, agent: httpx.Client) -> None:
    body = {"name": "social", "targets": TARGETS, "calendar": NY_OFFICE, "channels": ["x"]}
    created = admin.post("/sla/policies", json=body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["channels"] == ["x"] and policy["warn_share"] == 0.75
    assert admin.post("/sla/policies", json=body).status_code == 409
    bad = admin.post(
        "/sla/policies", json={**body, "name": "b", "calendar": {"timezone": "Nope/X"}}
    )
    assert bad.status_code == 422 and "unknown time zone" in bad.json()["error"]["reason"]
    bad = admin.post("/sla/policies", json={**body, "name": "c", "targets": [{"channel": "fax"}]})
    assert bad.status_code == 422 and "unknown channel" in bad.json()["error"]["reason"]
    assert agent.post("/sla/policies", json={**body, "name": "d"}).status_code == 403
    patched = admin.patch(f"/sla/policies/{policy['id']}", json={"warn_share": 0.5})
    assert patched.status_code == 200 and patched.json()["warn_share"] == 0.5
    assert admin.patch(f"/sla/policies/{policy['id']}", json={"warn_share": 2}).status_code == 422
    assert [p["name"] for p in agent.get("/sla/policies").json()] == ["social"]
    assert admin.delete(f"/sla/policies/{policy['id']}").status_code == 204
    assert admin.delete(f"/sla/policies/{policy['id']}").status_code == 404


def test_settings_rules_and_templates(admin: httpx.Client, agent: httpx.Client) -> None:
    assert admin.get("/sla/settings").json() == {"social_cuts_line": True, "ask_after_solve": False}
    r = admin.patch("/sla/settings", json={"social_cuts_line": False})
    assert r.status_code == 200 and r.json()["social_cuts_line"] is False
    rule = {
        "name": "vip first",
        "event": "ticket_created",
        "conditions": [{"field": "follower_count", "op": "gte", "value": 10000}],
        "actions": [{"type": "set_priority", "priority": "high"}],
    }
    created = admin.post("/automation/rules", json=rule)
    assert created.status_code == 201, created.text
    assert agent.post("/automation/rules", json=rule).status_code == 403
    bad = admin.post("/automation/rules", json={**rule, "event": "whenever"})
    assert bad.status_code == 422 and "event must be one of" in bad.json()["error"]["reason"]
    bad_team = {**rule, "actions": [{"type": "assign_team", "team_id": 999}]}
    assert admin.post("/automation/rules", json=bad_team).status_code == 422
    ack = admin.post("/automation/rules/out-of-hours-ack")
    assert ack.status_code == 201 and ack.json()["event"] == "ticket_created"
    renamed = admin.put(f"/automation/rules/{created.json()['id']}", json={**rule, "name": "big"})
    assert renamed.json()["name"] == "big"
    assert [r["name"] for r in agent.get("/automation/rules").json()] == [
        "big",
        "Out-of-hours acknowledgement",
    ]


def test_routing_config_availability_and_live_views(api: Api, admin: httpx.Client) -> None:
    team = admin.post("/teams", json={"name": "support"}).json()
    users = {u["email"]: u["id"] for u in admin.get("/users").json()}
    agent_id = users["agent@example.com"]
    r = admin.put(
        f"/teams/{team['id']}/routing",
        json={"skills": ["Language:EN"], "strategy": "round_robin", "members": [agent_id]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["skills"] == ["language:en"] and r.json()["members"] == [agent_id]
    bad = admin.put(f"/teams/{team['id']}/routing", json={"skills": ["english"]})
    assert bad.status_code == 422 and "dimension:value" in bad.json()["error"]["reason"]
    assert admin.put("/teams/999/routing", json={}).status_code == 404
    admin.put(f"/teams/{team['id']}/routing", json={"skills": []})

    admin.post("/sla/policies", json={"name": "24/7", "targets": TARGETS})
    acct = make_account(api.db)
    ingest(api.db, post(acct, "1", "help please"), pipeline=build_pipeline(Settings()))
    risk = admin.get("/sla/at-risk", params={"within_minutes": 60}).json()
    assert {r["target"] for r in risk} == {"first_response", "resolution"}  # 2017: long overdue
    live = admin.get("/queue/live").json()
    assert live["queues"] == {"x": {"new": 1}}
    assert live["oldest_waiting"]["x"]["waited_seconds"] > 0
    loads = {a["user_id"]: a["open_tickets"] for a in live["agents_on_shift"]}
    assert loads[agent_id] == 1  # routed to the only member
    assert [t["platform"] for t in admin.get("/queue/next").json()] == ["x"]

    away = admin.patch(f"/agents/{agent_id}/availability", json={"on_shift": False})
    assert away.status_code == 200 and away.json()["reassigned_ticket_ids"]
    assert admin.patch("/agents/999/availability", json={"on_shift": False}).status_code == 404
    neg = admin.patch(f"/agents/{agent_id}/availability", json={"max_open_tickets": -1})
    assert neg.status_code == 422


def test_csat_and_follow_ups(api: Api, agent: httpx.Client) -> None:
    acct = make_account(api.db)
    ingest(api.db, post(acct, "1", "help please"))
    ticket_id = agent.get("/tickets").json()["data"][0]["id"]
    agent.post(f"/tickets/{ticket_id}/replies", json={"body": "I'll get back to you in 2 hours"})
    [follow_up] = agent.get("/follow-ups").json()
    assert follow_up["ticket_id"] == ticket_id and follow_up["phrase"].startswith("I'll get back")
    assert agent.post(f"/tickets/{ticket_id}/csat", json={"score": 9}).status_code == 422
    r = agent.post(f"/tickets/{ticket_id}/csat", json={"score": 5, "comment": "great"})
    assert r.status_code == 201 and r.json()["score"] == 5
    kinds = [e["kind"] for e in agent.get(f"/tickets/{ticket_id}/events").json()]
    assert "follow_up_scheduled" in kinds and "csat_recorded" in kinds

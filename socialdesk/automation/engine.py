"""Running automation rules against a ticket, from the pipeline or from an action.

The engine works on any ticket object with the ticket columns as attributes (the
pipeline's ``TicketState`` or the ORM ``Ticket``), writes side effects (tags, queued
replies, notifications) with Core on the caller's connection, and hands ticket events
to an ``emit`` callback. Loops cannot happen: an event caused by a rule's action
carries that rule's id and the rule never fires on it again; derived events are also
capped at ``MAX_DEPTH``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from socialdesk.automation.rules import conditions_hold
from socialdesk.delivery.enqueue import reply_kind
from socialdesk.domain.business_hours import next_business_start
from socialdesk.domain.enums import (
    DeliveryState,
    Direction,
    Priority,
    Role,
    TicketEventKind,
    TicketStatus,
)
from socialdesk.sla.policies import PolicySpec
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    AutomationRule,
    Membership,
    Message,
    Notification,
    OutboxEntry,
    TeamMember,
    TicketEvent,
    TicketTag,
    User,
)
from socialdesk.store.models.base import table_of

MAX_DEPTH = 5
_rules = table_of(AutomationRule)
_messages = table_of(Message)
_outbox = table_of(OutboxEntry)
_notifications = table_of(Notification)
_tags = table_of(TicketTag)
_events = table_of(TicketEvent)
_members = table_of(TeamMember)
_users = table_of(User)
_memberships = table_of(Membership)

Emit = Callable[[TicketEventKind, datetime, str, dict[str, Any]], None]


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    event: str
    conditions: tuple[Mapping[str, Any], ...]
    actions: tuple[Mapping[str, Any], ...]


@dataclass
class Trigger:
    event: str
    at: datetime
    facts: dict[str, Any]
    fired_by: frozenset[int] = frozenset()
    depth: int = 0


@dataclass
class TicketContext:
    """What the actions need besides the ticket: tags, the policy, replies already sent."""

    tags: set[str] = field(default_factory=set)
    policy: PolicySpec | None = None
    auto_replied_rules: set[int] = field(default_factory=set)


def load_rules(conn: Connection, workspace_ids: Iterable[int]) -> dict[int, list[RuleSpec]]:
    wanted = sorted(set(workspace_ids))
    out: dict[int, list[RuleSpec]] = {w: [] for w in wanted}
    rows = conn.execute(
        select(_rules)
        .where(_rules.c.workspace_id.in_(wanted), _rules.c.enabled.is_(True))
        .order_by(_rules.c.position, _rules.c.id)
    )
    for r in rows:
        out[r.workspace_id].append(
            RuleSpec(r.id, r.name, r.event, tuple(r.conditions), tuple(r.actions))
        )
    return out


def auto_replied_rules(conn: Connection, ticket_id: int) -> set[int]:
    rows = conn.execute(
        select(_events.c.data).where(
            _events.c.ticket_id == ticket_id, _events.c.kind == str(TicketEventKind.AUTO_REPLIED)
        )
    )
    return {int(r.data["rule_id"]) for r in rows if r.data and "rule_id" in r.data}


def render(body: str, ctx: TicketContext, at: datetime) -> str:
    if "{next_open}" not in body:
        return body
    if ctx.policy is None:
        return body.replace("{next_open}", "soon")
    cal = ctx.policy.calendar
    opens = next_business_start(cal, at).astimezone(cal.zone)
    day = "" if opens.date() == at.astimezone(cal.zone).date() else opens.strftime(" %A")
    text = opens.strftime("%I:%M %p").lstrip("0") + day + " " + (opens.tzname() or "")
    return body.replace("{next_open}", text.strip())


class Runner:
    def __init__(self, conn: Connection, ticket: Any, ctx: TicketContext, emit: Emit) -> None:
        self.conn, self.ticket, self.ctx, self.emit = conn, ticket, ctx, emit

    def run(self, rules: Sequence[RuleSpec], trigger: Trigger) -> None:
        queue = [trigger]
        while queue:
            current = queue.pop(0)
            facts = {
                **current.facts,
                "priority": self.ticket.priority,
                "status": self.ticket.status,
                "tags": sorted(self.ctx.tags),
            }
            for rule in rules:
                if rule.event != current.event or rule.id in current.fired_by:
                    continue
                if not conditions_hold(list(rule.conditions), facts):
                    continue
                done = [self._act(rule, a, current, facts, queue) for a in rule.actions]
                self.emit(
                    TicketEventKind.RULE_FIRED,
                    current.at,
                    f"rule:{rule.id}",
                    {"rule_id": rule.id, "rule": rule.name, "event": current.event, "did": done},
                )

    def _act(
        self,
        rule: RuleSpec,
        action: Mapping[str, Any],
        trigger: Trigger,
        facts: Mapping[str, Any],
        queue: list[Trigger],
    ) -> str:
        kind, at, actor, t = action["type"], trigger.at, f"rule:{rule.id}", self.ticket
        if kind == "assign_team" and t.team_id != action["team_id"]:
            self.emit(
                TicketEventKind.TEAM_CHANGED,
                at,
                actor,
                {"from": t.team_id, "to": action["team_id"], "rule_id": rule.id},
            )
            t.team_id = action["team_id"]
        elif kind == "assign_agent" and t.assignee_id != action["user_id"]:
            self.emit(
                TicketEventKind.ASSIGNED,
                at,
                actor,
                {"from": t.assignee_id, "to": action["user_id"], "rule_id": rule.id},
            )
            t.assignee_id = action["user_id"]
        elif kind == "set_priority" and t.priority != action["priority"]:
            self.emit(
                TicketEventKind.PRIORITY_CHANGED,
                at,
                actor,
                {"from": t.priority, "to": action["priority"], "rule_id": rule.id},
            )
            t.priority = action["priority"]
        elif kind == "add_tag":
            tag = str(action["tag"]).strip().lower()[:80]
            if tag in self.ctx.tags:
                return "add_tag: already tagged"
            self.conn.execute(insert(_tags), [{"ticket_id": t.id, "tag": tag}])
            self.ctx.tags.add(tag)
            self.emit(TicketEventKind.TAGS_CHANGED, at, actor, {"added": [tag], "rule_id": rule.id})
        elif kind == "send_canned_reply":
            return self._reply(rule, action, trigger, facts)
        elif kind == "notify":
            self._notify(rule, action, at)
        elif kind == "notify_email":
            self._notify_email(rule, action, at)
        elif kind == "escalate":
            return self._escalate(rule, action, at)
        elif kind == "close_as_noise" and t.status != TicketStatus.CLOSED:
            self._set_status(rule, TicketStatus.CLOSED, trigger, queue)
        elif kind == "set_status" and t.status not in (action["status"], TicketStatus.CLOSED):
            self._set_status(rule, TicketStatus(action["status"]), trigger, queue)
        else:
            return f"{kind}: nothing to change"
        return kind

    def _set_status(
        self, rule: RuleSpec, status: TicketStatus, trigger: Trigger, queue: list[Trigger]
    ) -> None:
        t, at = self.ticket, trigger.at
        self.emit(
            TicketEventKind.STATUS_CHANGED,
            at,
            f"rule:{rule.id}",
            {"from": t.status, "to": str(status), "rule_id": rule.id},
        )
        old, t.status = t.status, str(status)
        if status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
            t.needs_reply = False
        if status == TicketStatus.SOLVED:
            t.solved_at = at
        elif status != TicketStatus.CLOSED:
            t.solved_at = None
        if status == TicketStatus.CLOSED and hasattr(t, "closed_at"):
            t.closed_at = at
        if trigger.depth < MAX_DEPTH:
            queue.append(
                Trigger(
                    "status_change",
                    at,
                    {**trigger.facts, "status": t.status, "previous_status": old},
                    trigger.fired_by | {rule.id},
                    trigger.depth + 1,
                )
            )

    def _reply(
        self, rule: RuleSpec, action: Mapping[str, Any], trigger: Trigger, facts: Mapping[str, Any]
    ) -> str:
        t = self.ticket
        if facts.get("own_post"):
            return "send_canned_reply: skipped, the post is our own"
        if action.get("once_per_ticket", True) and rule.id in self.ctx.auto_replied_rules:
            return "send_canned_reply: skipped, already sent on this ticket"
        if t.channel_account_id is None:
            return "send_canned_reply: skipped, no channel account"
        now = utcnow()
        body = render(str(action["body"]), self.ctx, trigger.at)
        visibility = str(facts.get("visibility") or "public")
        [message_id] = insert_with_ids(
            self.conn,
            _messages,
            [
                {
                    "ticket_id": t.id,
                    "workspace_id": t.workspace_id,
                    "channel_account_id": t.channel_account_id,
                    "platform": t.platform,
                    "direction": str(Direction.OUTBOUND),
                    "visibility": visibility,
                    "author_name": "automation",
                    "body": body,
                    "created_at": now,
                    "received_at": now,
                    "delivery_state": str(DeliveryState.QUEUED),
                    "meta": {"automated": True, "rule_id": rule.id},
                }
            ],
        )
        self.conn.execute(
            insert(_outbox),
            [
                {
                    "message_id": message_id,
                    "channel_account_id": t.channel_account_id,
                    "kind": str(reply_kind(t.platform, visibility)),
                    "state": "queued",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "idempotency_key": f"socialdesk-message-{message_id}",
                    "created_at": now,
                }
            ],
        )
        self.ctx.auto_replied_rules.add(rule.id)
        self.emit(
            TicketEventKind.AUTO_REPLIED,
            trigger.at,
            f"rule:{rule.id}",
            {"rule_id": rule.id, "message_id": message_id},
        )
        return "send_canned_reply"

    def _escalate(self, rule: RuleSpec, action: Mapping[str, Any], at: datetime) -> str:
        """Urgent priority, the escalation team if given, and an in-app note to the leads."""
        t, actor = self.ticket, f"rule:{rule.id}"
        if t.priority != Priority.URGENT:
            self.emit(
                TicketEventKind.PRIORITY_CHANGED,
                at,
                actor,
                {"from": t.priority, "to": str(Priority.URGENT), "rule_id": rule.id},
            )
            t.priority = str(Priority.URGENT)
        team_id = action.get("team_id")
        if team_id is not None and t.team_id != team_id:
            self.emit(
                TicketEventKind.TEAM_CHANGED,
                at,
                actor,
                {"from": t.team_id, "to": team_id, "rule_id": rule.id},
            )
            t.team_id = team_id
        leads = sorted(
            r.id
            for r in self.conn.execute(
                select(_users.c.id)
                .join(_memberships, _memberships.c.user_id == _users.c.id)
                .where(
                    _memberships.c.workspace_id == t.workspace_id,
                    _users.c.role == str(Role.LEAD),
                    _users.c.is_active.is_(True),
                )
            )
        )
        body = str(action.get("message") or f"Escalated by rule {rule.name!r}: {t.subject}")
        if leads:
            self.conn.execute(
                insert(_notifications),
                [
                    {
                        "workspace_id": t.workspace_id,
                        "user_id": lead,
                        "team_id": team_id,
                        "ticket_id": t.id,
                        "kind": "escalation",
                        "body": body[:2000],
                        "data": {"rule_id": rule.id},
                        "created_at": utcnow(),
                    }
                    for lead in leads
                ],
            )
        self.emit(
            TicketEventKind.ESCALATED,
            at,
            actor,
            {"rule_id": rule.id, "team_id": team_id, "notified": leads},
        )
        return "escalate"

    def _notify_email(self, rule: RuleSpec, action: Mapping[str, Any], at: datetime) -> None:
        """E-mail someone: a ``notifications`` row with kind ``email`` (``user_id`` null, so
        it never shows as an in-app notification) and a ``notification_outbox`` row in the
        same transaction, which the notification worker sends over SMTP."""
        from socialdesk.config import get_settings
        from socialdesk.notify.outbox import enqueue_email, rule_email

        t = self.ticket
        user_ids = [action["user_id"]] if action.get("user_id") else []
        if action.get("team_id"):
            user_ids += [
                r.user_id
                for r in self.conn.execute(
                    select(_members.c.user_id).where(_members.c.team_id == action["team_id"])
                )
            ]
        user_ids = sorted(set(user_ids))
        to = (
            [
                r.email
                for r in self.conn.execute(
                    select(_users.c.email).where(
                        _users.c.id.in_(user_ids), _users.c.is_active.is_(True)
                    )
                )
            ]
            if user_ids
            else []
        )
        if action.get("to"):
            to.append(str(action["to"]))
        to = sorted(set(to))
        now = utcnow()
        message = str(action["message"])[:2000]
        notification_id = self.conn.execute(
            insert(_notifications).values(
                workspace_id=t.workspace_id,
                user_id=None,
                team_id=action.get("team_id"),
                ticket_id=t.id,
                kind="email",
                body=message,
                data={
                    "channel": "email",
                    "to": to,
                    "user_ids": user_ids,
                    "rule_id": rule.id,
                    "state": ("queued" if get_settings().smtp_host else "not_configured")
                    if to
                    else "no_recipient",
                },
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        outbox_id = None
        if to:
            subject, body = rule_email(
                rule_name=rule.name,
                message=message,
                ticket_id=t.id,
                ticket_subject=t.subject or "",
                public_url=get_settings().public_url,
            )
            outbox_id = enqueue_email(
                self.conn,
                workspace_id=t.workspace_id,
                recipients=to,
                subject=subject,
                body=body,
                now=now,
                ticket_id=t.id,
                notification_id=int(notification_id),
                rule_id=rule.id,
                smtp_configured=bool(get_settings().smtp_host),
            )
        self.emit(
            TicketEventKind.NOTIFIED,
            at,
            f"rule:{rule.id}",
            {"rule_id": rule.id, "channel": "email", "to": to, "email_outbox_id": outbox_id},
        )

    def _notify(self, rule: RuleSpec, action: Mapping[str, Any], at: datetime) -> None:
        t = self.ticket
        users = [action["user_id"]] if action.get("user_id") else []
        if action.get("team_id"):
            users += [
                r.user_id
                for r in self.conn.execute(
                    select(_members.c.user_id).where(_members.c.team_id == action["team_id"])
                )
            ]
        rows = [
            {
                "workspace_id": t.workspace_id,
                "user_id": user_id,
                "team_id": action.get("team_id"),
                "ticket_id": t.id,
                "kind": "rule",
                "body": str(action["message"]),
                "data": {"rule_id": rule.id},
                "created_at": utcnow(),
            }
            for user_id in sorted(set(users))
        ]
        if rows:
            self.conn.execute(insert(_notifications), rows)
        self.emit(
            TicketEventKind.NOTIFIED,
            at,
            f"rule:{rule.id}",
            {"rule_id": rule.id, "users": sorted(set(users))},
        )

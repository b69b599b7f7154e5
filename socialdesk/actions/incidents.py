"""Incidents the crisis radar raises (``socialdesk/radar/``): raising one (audit, live
event, e-mail to the workspace's leads and marketing people through the notification
outbox), closing one, and answering its tickets with personalised holding replies
through the one reply door (``send_reply``: posting rights and approval, exactly once by
client key)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.inbox import send_reply
from socialdesk.actions.recording import ActionError, NeedsConfirmation, audit, require_role
from socialdesk.domain.enums import Role, TicketStatus
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.notify.outbox import enqueue_email
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    Incident,
    IncidentTicket,
    Ticket,
    User,
)
from socialdesk.store.repos.people import leads_and_marketing

RAISED, CLOSED, HOLDING = "incident.raised", "incident.closed", "incident.holding_replies"
CLOSERS = (Role.ADMIN, Role.LEAD, Role.MARKETING)
# An incident found in replayed history long after the fact is recorded, not mailed:
# nobody needs an alarm about last month.
NOTIFY_WITHIN = timedelta(hours=6)
PLACEHOLDERS = frozenset({"first_name", "name", "handle", "ticket", "topic", "account"})
TEMPLATE_LIMIT = 1000
_OPENERS = ("Hi", "Hello", "Hey", "Dear", "Thanks for writing,", "Hi there")


def _account_name(session: Session, incident: Incident) -> str:
    if incident.channel_account_id is None:
        return "an account"
    account = session.get(ChannelAccount, incident.channel_account_id)
    return account.display_name if account is not None else "an account"


def raise_incident(
    session: Session,
    incident: Incident,
    *,
    now: datetime,
    public_url: str,
    smtp_configured: bool,
) -> int | None:
    """Record a newly found incident (already added to the session and flushed): the
    audit entry, the live event and, when it is recent, the e-mail to leads and
    marketing. The outbox row's id, or None when nobody was mailed."""
    account = _account_name(session, incident)
    data = {
        "topic": incident.topic,
        "channel_account_id": incident.channel_account_id,
        "started_at": incident.started_at.isoformat(),
        "raised_at": incident.raised_at.isoformat(),
        "size": incident.size,
        "baseline": round(incident.baseline, 2),
        "surprise": round(min(incident.surprise, 999.0), 1),
    }
    outbox_id = None
    to = leads_and_marketing(session, incident.workspace_id)
    if to and now - incident.raised_at <= NOTIFY_WITHIN:
        subject = f"[socialdesk] Incident: {incident.topic} on {account}"
        body = (
            f"The crisis radar sees a surge of negative posts about {incident.topic} "
            f"on {account}.\n\n"
            f"Started: {incident.started_at:%Y-%m-%d %H:%M} UTC\n"
            f"Posts so far: {incident.size} (usually {incident.baseline:.1f} an hour)\n\n"
            f"{public_url.rstrip('/')}/incidents/{incident.id}\n"
        )
        outbox_id = enqueue_email(
            session.connection(),
            workspace_id=incident.workspace_id,
            recipients=to,
            subject=subject,
            body=body,
            now=now,
            smtp_configured=smtp_configured,
        )
    data["outbox_id"] = outbox_id
    audit(session, None, RAISED, "incident", incident.id, incident.workspace_id, data)
    queue_live_event(
        session,
        LiveEvent(
            "incident_raised",
            incident.workspace_id,
            {"incident_id": incident.id, "topic": incident.topic, "account": account},
        ),
    )
    return outbox_id


def close_incident(session: Session, incident: Incident, actor: User | None) -> None:
    require_role(actor, CLOSERS, "only admins, leads and marketing close incidents")
    if incident.state == "closed":
        raise ActionError("the incident is already closed", 409)
    now = utcnow()
    incident.state = "closed"
    incident.ended_at = incident.ended_at or now
    incident.closed_by_user_id = actor.id if actor else None
    audit(session, actor, CLOSED, "incident", incident.id, incident.workspace_id, {})
    queue_live_event(
        session, LiveEvent("incident_closed", incident.workspace_id, {"incident_id": incident.id})
    )


def incident_tickets(session: Session, incident_id: int) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
            .where(IncidentTicket.incident_id == incident_id)
            .order_by(Ticket.id)
        )
    )


def check_template(template: str) -> str:
    """The template's problem, or raise: only known ``{placeholders}``."""
    text = template.strip()
    if not text:
        raise ActionError("a holding reply needs a text", 422)
    if len(text) > TEMPLATE_LIMIT:
        raise ActionError(f"a holding reply is at most {TEMPLATE_LIMIT} characters", 422)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ActionError(f"the template cannot be read: {exc}", 422) from exc
    unknown = names - PLACEHOLDERS
    if unknown or any(not n for n in names):
        raise ActionError(
            "unknown placeholder(s): "
            + ", ".join(sorted("{" + n + "}" for n in unknown or {""}))
            + "; use "
            + ", ".join("{" + n + "}" for n in sorted(PLACEHOLDERS)),
            422,
        )
    return text


def personalise(
    template: str, *, name: str, handle: str, ticket_id: int, topic: str, account: str, n: int
) -> str:
    """One customer's holding reply. The customer's name and the ticket reference differ
    from one ticket to the next; a template that names neither still gets a greeting and
    a reference, because X refuses a post it has seen before."""
    first = (name.split() or [handle or "there"])[0]
    values = {
        "first_name": first,
        "name": name or first,
        "handle": f"@{handle}" if handle else first,
        "ticket": ticket_ref(ticket_id),
        "topic": topic,
        "account": account,
    }
    text = template.format(**values)
    if not ({"first_name", "name", "handle"} & _names(template)):
        text = f"{_OPENERS[n % len(_OPENERS)]} {first}, {text[0].lower()}{text[1:]}"
    if "ticket" not in _names(template):
        text = f"{text} (ref {ticket_ref(ticket_id)})"
    return re.sub(r"[ \t]+", " ", text).strip()


_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"


def ticket_ref(ticket_id: int) -> str:
    """The ticket's reference in letters: a number in a public reply reads as an order
    number to the personal-data check (domain/personal_data.py), and this one is ours."""
    out, n = "", ticket_id
    while True:
        n, digit = divmod(n, len(_LETTERS))
        out = _LETTERS[digit] + out
        if n == 0:
            return out


def _customer(session: Session, ticket: Ticket) -> tuple[str, str]:
    if ticket.contact_id is None:
        return "", ""
    contact = session.get(Contact, ticket.contact_id)
    identity = session.scalars(
        select(ContactIdentity)
        .where(ContactIdentity.contact_id == ticket.contact_id)
        .order_by(ContactIdentity.id)
        .limit(1)
    ).first()
    name = (contact.display_name if contact else "") or (
        identity.display_name or "" if identity else ""
    )
    return name, (identity.handle or "") if identity else ""


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass
class HoldingOutcome:
    sent: list[int] = field(default_factory=list)  # message ids
    drafted: list[int] = field(default_factory=list)  # approval draft ids
    skipped: list[int] = field(default_factory=list)  # ticket ids (solved/closed)


def holding_replies(
    session: Session, incident: Incident, actor: User, template: str
) -> HoldingOutcome:
    """One personalised reply per unsolved ticket of the incident, each through
    ``send_reply`` (approval for those without posting rights) with a client key, so a
    repeated request sends nothing twice. Every text is distinct."""
    text = check_template(template)
    account = _account_name(session, incident)
    outcome = HoldingOutcome()
    seen: set[str] = set()
    for n, ticket in enumerate(incident_tickets(session, incident.id)):
        if ticket.status in (str(TicketStatus.SOLVED), str(TicketStatus.CLOSED)):
            outcome.skipped.append(ticket.id)
            continue
        name, handle = _customer(session, ticket)
        body = personalise(
            text, name=name, handle=handle, ticket_id=ticket.id, topic=incident.topic,
            account=account, n=n,
        )  # fmt: skip
        if body in seen:  # cannot happen with the ticket reference, but never post twice
            body = f"{body} ({n + 1})"
        seen.add(body)
        try:
            result = send_reply(
                session, ticket, actor, body, status_after=None,
                client_key=f"incident-{incident.id}-holding",
            )  # fmt: skip
        except NeedsConfirmation:
            outcome.skipped.append(ticket.id)
            continue
        if result.draft is not None:
            outcome.drafted.append(result.draft.id)
        elif result.message is not None:
            outcome.sent.append(result.message.id)
    audit(
        session, actor, HOLDING, "incident", incident.id, incident.workspace_id,
        {"sent": len(outcome.sent), "drafted": len(outcome.drafted),
         "skipped": len(outcome.skipped)},
    )  # fmt: skip
    return outcome

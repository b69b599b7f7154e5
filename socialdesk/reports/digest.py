"""The daily digest: what was said about the brand on one local day.

``build_digest`` reads it (the API, the page and the e-mail show the same thing);
``digest_email`` words it as a plain-text e-mail. Sending it once a day at the
workspace's hour is ``reports/digest_send.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from socialdesk.reports.overview import workspace_zone
from socialdesk.store.models import FollowUp, Ticket, TicketEvent, User

# How many tickets the slowest and breached lists, and the topics, show.
TOP = 5


@dataclass(slots=True)
class Digest:
    day: date
    timezone: str
    since: datetime
    until: datetime
    messages_by_channel: dict[str, int] = field(default_factory=dict)
    opened_by_channel: dict[str, int] = field(default_factory=dict)
    slowest: list[dict[str, Any]] = field(default_factory=list)
    breached: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    sentiment: dict[str, int] = field(default_factory=dict)
    promises_due: list[dict[str, Any]] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(self.messages_by_channel.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "timezone": self.timezone,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "messages": self.messages,
            "messages_by_channel": self.messages_by_channel,
            "opened_by_channel": self.opened_by_channel,
            "slowest": self.slowest,
            "breached": self.breached,
            "topics": self.topics,
            "sentiment": self.sentiment,
            "promises_due": self.promises_due,
        }


def day_bounds(day: date, zone: Any, now: datetime) -> tuple[datetime, datetime]:
    """The local day, cut at ``now`` when it is today (a digest reports what was said)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, min(end, max(start, now))


def _ticket(row: Any, **extra: Any) -> dict[str, Any]:
    return {"id": row.id, "subject": row.subject, "channel": row.platform, **extra}


def build_digest(session: Session, workspace_id: int, day: date, now: datetime) -> Digest:
    zone_name, zone = workspace_zone(session, workspace_id)
    since, until = day_bounds(day, zone, now)
    digest = Digest(day, zone_name, since, until)
    in_day = and_(
        TicketEvent.workspace_id == workspace_id,
        TicketEvent.created_at >= since,
        TicketEvent.created_at < until,
    )
    for kind, target in (
        ("message_received", digest.messages_by_channel),
        ("created", digest.opened_by_channel),
    ):
        counted = session.execute(
            select(Ticket.platform, func.count())
            .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(in_day, TicketEvent.kind == kind)
            .group_by(Ticket.platform)
        )
        target.update({str(p): int(n) for p, n in sorted(counted)})

    talked = select(TicketEvent.ticket_id).where(in_day, TicketEvent.kind == "message_received")
    # Slowest: customers who wrote first that day, by how long they waited for the first
    # reply (still waiting: until the end of the digest's window).
    waits = []
    for row in session.execute(
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.platform,
            Ticket.first_message_at,
            Ticket.first_response_at,
        ).where(
            Ticket.workspace_id == workspace_id,
            Ticket.first_message_at >= since,
            Ticket.first_message_at < until,
        )
    ):
        answered = row.first_response_at
        waited = ((answered or until) - row.first_message_at).total_seconds()
        waits.append(
            _ticket(row, wait_seconds=round(max(0.0, waited)), answered=answered is not None)
        )
    waits.sort(key=lambda t: (-t["wait_seconds"], t["id"]))
    digest.slowest = waits[:TOP]

    breached = session.execute(
        select(Ticket.id, Ticket.subject, Ticket.platform, func.min(TicketEvent.created_at))
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(in_day, TicketEvent.kind == "sla_breached")
        .group_by(Ticket.id, Ticket.subject, Ticket.platform)
        .order_by(func.min(TicketEvent.created_at), Ticket.id)
    )
    digest.breached = [_ticket(row, breached_at=row[3].isoformat()) for row in breached]

    labelled = session.execute(
        select(Ticket.topic, Ticket.sentiment_label).where(Ticket.id.in_(talked.distinct()))
    ).all()
    topics = Counter(t for t, _ in labelled if t)
    digest.topics = [
        {"topic": t, "tickets": n} for t, n in sorted(topics.items(), key=lambda i: (-i[1], i[0]))
    ][:TOP]
    digest.sentiment = dict(sorted(Counter(s for _, s in labelled if s).items()))

    promises = session.execute(
        select(FollowUp.ticket_id, FollowUp.phrase, FollowUp.due_at, Ticket.subject, User.name)
        .join(Ticket, Ticket.id == FollowUp.ticket_id)
        .outerjoin(User, User.id == FollowUp.user_id)
        .where(
            FollowUp.workspace_id == workspace_id,
            FollowUp.status == "open",
            FollowUp.due_at < datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
        )
        .order_by(FollowUp.due_at, FollowUp.id)
    )
    digest.promises_due = [
        {
            "ticket_id": ticket_id,
            "subject": subject,
            "phrase": phrase,
            "due_at": due.isoformat(),
            "overdue": due < now,
            "promised_by": name or None,
        }
        for ticket_id, phrase, due, subject, name in promises
    ]
    return digest


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def digest_email(digest: Digest, workspace_name: str, public_url: str) -> tuple[str, str]:
    """Subject and plain-text body."""
    base = public_url.rstrip("/")
    subject = f"[socialdesk] {workspace_name}: what was said about you on {digest.day}"
    lines = [
        f"What was said about {workspace_name} on {digest.day} ({digest.timezone}),"
        f" until {digest.until.astimezone(digest.since.tzinfo):%H:%M}.",
        "",
        f"Customer messages: {digest.messages}",
    ]
    lines += [f"  {ch}: {n}" for ch, n in digest.messages_by_channel.items()]
    lines += [
        "",
        "New tickets: "
        + (", ".join(f"{ch} {n}" for ch, n in digest.opened_by_channel.items()) or "none"),
    ]
    lines += ["", "Slowest first responses:"]
    lines += [
        f"  #{t['id']} {t['subject'][:60]} ({t['channel']}): {_duration(t['wait_seconds'])}"
        + ("" if t["answered"] else ", still waiting")
        + f"\n    {base}/tickets/{t['id']}"
        for t in digest.slowest
    ] or ["  none"]
    lines += ["", "Breached service levels:"]
    lines += [
        f"  #{t['id']} {t['subject'][:60]} ({t['channel']})\n    {base}/tickets/{t['id']}"
        for t in digest.breached
    ] or ["  none"]
    lines += [
        "",
        "Top topics: "
        + (", ".join(f"{t['topic']} ({t['tickets']})" for t in digest.topics) or "none"),
    ]
    lines += [
        "Sentiment: "
        + (", ".join(f"{label} {n}" for label, n in digest.sentiment.items()) or "none")
    ]
    lines += ["", "Promises due:"]
    lines += [
        f'  #{p["ticket_id"]} "{p["phrase"]}" due {p["due_at"][:16].replace("T", " ")} UTC'
        + (" (overdue)" if p["overdue"] else "")
        for p in digest.promises_due
    ] or ["  none"]
    lines += ["", f"The digest page: {base}/reports/digest?date={digest.day}", ""]
    return subject, "\n".join(lines)

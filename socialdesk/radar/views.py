"""What the incident list, the API and the room page read: an incident with its account,
sample posts, the tickets, the volume per bucket around it and its top terms."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.radar.detection import BUCKET_SECONDS, bucket_of
from socialdesk.radar.scan import bucket_start
from socialdesk.store.models import (
    ChannelAccount,
    Incident,
    IncidentTicket,
    Message,
    RadarPost,
    Ticket,
)

SAMPLES = 3
# @handles (the brand's own above all) and links say nothing about what went wrong.
_HANDLE = re.compile(r"@\w+|https?://\S+")
_WORD = re.compile(r"[a-z][a-z'\u2019-]{2,}")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "are",
        "was",
        "were",
        "this",
        "that",
        "with",
        "have",
        "has",
        "had",
        "not",
        "but",
        "our",
        "out",
        "can",
        "all",
        "any",
        "been",
        "from",
        "they",
        "them",
        "their",
        "what",
        "when",
        "why",
        "how",
        "who",
        "will",
        "would",
        "could",
        "should",
        "just",
        "get",
        "got",
        "its",
        "it's",
        "i'm",
        "im",
        "i've",
        "dont",
        "don't",
        "can't",
        "cant",
        "did",
        "does",
        "about",
        "into",
        "over",
        "there",
        "here",
        "than",
        "then",
        "because",
        "still",
        "now",
        "one",
        "two",
        "again",
        "also",
        "very",
        "really",
        "today",
        "tomorrow",
        "yesterday",
        "amp",
        "http",
        "https",
        "www",
        "com",
    ]
)


@dataclass
class Sample:
    message_id: int
    ticket_id: int
    author: str
    body: str
    posted_at: datetime


@dataclass
class IncidentView:
    incident: Incident
    account: str
    platform: str
    samples: list[Sample] = field(default_factory=list)


def _accounts(session: Session, ids: set[int]) -> dict[int, ChannelAccount]:
    if not ids:
        return {}
    rows = session.scalars(select(ChannelAccount).where(ChannelAccount.id.in_(ids)))
    return {a.id: a for a in rows}


def _end_bucket(incident: Incident) -> int:
    end = incident.ended_at or max(incident.peak_at, incident.raised_at)
    return bucket_of(end.timestamp()) + (0 if incident.ended_at else 1)


def _post_rows(session: Session, incident: Incident, limit: int | None) -> list[Sample]:
    query = (
        select(Message.id, Message.ticket_id, Message.author_name, Message.body, Message.created_at)
        .join(RadarPost, RadarPost.message_id == Message.id)
        .where(
            RadarPost.workspace_id == incident.workspace_id,
            RadarPost.channel_account_id == incident.channel_account_id,
            RadarPost.topic == incident.topic,
            RadarPost.bucket >= bucket_of(incident.started_at.timestamp()),
            RadarPost.bucket <= _end_bucket(incident),
        )
        .order_by(RadarPost.posted_at, RadarPost.message_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [Sample(*row) for row in session.execute(query)]


def list_incidents(
    session: Session, workspace_ids: list[int], *, state: str | None = None, limit: int = 50
) -> list[IncidentView]:
    query = select(Incident).where(Incident.workspace_id.in_(workspace_ids))
    if state:
        query = query.where(Incident.state == state)
    incidents = list(session.scalars(query.order_by(Incident.started_at.desc()).limit(limit)))
    accounts = _accounts(session, {i.channel_account_id for i in incidents if i.channel_account_id})
    views = []
    for incident in incidents:
        account = accounts.get(incident.channel_account_id or 0)
        views.append(
            IncidentView(
                incident,
                account.display_name or account.handle if account else "",
                account.platform if account else "",
                _post_rows(session, incident, SAMPLES),
            )
        )
    return views


def incident_view(session: Session, incident: Incident) -> IncidentView:
    account = _accounts(session, {incident.channel_account_id or 0}).get(
        incident.channel_account_id or 0
    )
    return IncidentView(
        incident,
        account.display_name or account.handle if account else "",
        account.platform if account else "",
        _post_rows(session, incident, SAMPLES),
    )


def tickets_of(session: Session, incident_id: int) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
            .where(IncidentTicket.incident_id == incident_id)
            .order_by(Ticket.id)
        )
    )


def volume(
    session: Session, incident: Incident, hours_before: int = 12
) -> list[tuple[datetime, int]]:
    """Posts of the incident's key per hour, from ``hours_before`` before it began to its
    end (or the latest post)."""
    per_hour = 3600 // BUCKET_SECONDS
    first = bucket_of((incident.started_at - timedelta(hours=hours_before)).timestamp())
    first -= first % per_hour
    last = _end_bucket(incident) + per_hour * 3
    rows = session.execute(
        select(RadarPost.bucket).where(
            RadarPost.workspace_id == incident.workspace_id,
            RadarPost.channel_account_id == incident.channel_account_id,
            RadarPost.topic == incident.topic,
            RadarPost.bucket >= first,
            RadarPost.bucket <= last,
        )
    ).scalars()
    counts = Counter((b - first) // per_hour for b in rows)
    hours = (last - first) // per_hour + 1
    return [(bucket_start(first + h * per_hour), counts.get(h, 0)) for h in range(hours)]


def top_terms(session: Session, incident: Incident, limit: int = 12) -> list[tuple[str, int]]:
    """The words most posts of the incident share (each post counts a word once)."""
    counts: Counter[str] = Counter()
    for sample in _post_rows(session, incident, 2000):
        words = {w.strip("'\u2019-") for w in _WORD.findall(_HANDLE.sub(" ", sample.body).lower())}
        counts.update(w for w in words if w not in _STOP and not w.isdigit() and len(w) > 2)
    return counts.most_common(limit)


@dataclass(frozen=True)
class TicketIncident:
    """An incident a ticket belongs to, as the ticket page's banner and API name it."""

    id: int
    topic: str
    state: str
    started_at: datetime
    account: str


def incidents_of_ticket(session: Session, ticket_id: int) -> list[TicketIncident]:
    """The incidents a ticket was linked to, oldest first, with their account's name
    (one query: the ticket page's query count is pinned)."""
    rows = session.execute(
        select(
            Incident.id,
            Incident.topic,
            Incident.state,
            Incident.started_at,
            ChannelAccount.display_name,
            ChannelAccount.handle,
        )
        .join(IncidentTicket, IncidentTicket.incident_id == Incident.id)
        .outerjoin(ChannelAccount, ChannelAccount.id == Incident.channel_account_id)
        .where(IncidentTicket.ticket_id == ticket_id)
        .order_by(Incident.started_at, Incident.id)
    )
    return [
        TicketIncident(id_, topic, state, started_at, name or handle or "")
        for id_, topic, state, started_at, name, handle in rows
    ]

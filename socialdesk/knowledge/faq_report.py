"""The FAQ finder over a workspace's stored messages: which customer messages are read,
what may cover a cluster, and the team's best past answers to pre-fill a draft.

The clustering itself is pure (`faq.py`); this module only reads. The newest
`faq.MAX_QUESTIONS` customer messages of the period are clustered, and the report says
when the period held more.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from socialdesk.domain.enums import Direction
from socialdesk.domain.gratitude import is_gratitude_only
from socialdesk.knowledge.faq import (
    MAX_QUESTIONS,
    Cluster,
    Question,
    Reference,
    best_answers,
    find_clusters,
    title_from,
)
from socialdesk.store.models import Article, CannedResponse, Message, Ticket

# How many of a cluster's tickets are read for the team's past answers.
ANSWER_TICKETS = 50
# How the automation rules sign their replies (automation/engine.py, check_in.py).
AUTOMATION = "automation"
# Short replies that only say a message arrived or when someone will look at it.
ACKNOWLEDGEMENT_CHARS = 240
_ACKNOWLEDGEMENT = re.compile(
    r"\b(we('ve| have)? received your"
    r"|outside (of )?(our )?(business|opening|office) hours|we('re| are) (currently )?closed"
    r"|(get|come) back to you (as soon as|shortly|tomorrow)|automatic(ally)? (reply|response)"
    r"|auto-?reply)\b",
    re.IGNORECASE,
)


class PeriodError(ValueError):
    """A `since`/`until` that cannot be read; the message says why (a 4xx's reason)."""


def parse_bound(value: str | None, name: str) -> datetime | None:
    """``2026-03-02`` (UTC midnight) or an ISO 8601 time (UTC when it has no offset)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise PeriodError(
            f"{name} must be a date (2026-03-02) or an ISO 8601 time, not {text[:40]!r}"
        ) from None
    if not 1970 <= moment.year <= 9998:
        raise PeriodError(f"{name} must fall between the years 1970 and 9998")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    start, end = parse_bound(since, "since"), parse_bound(until, "until")
    if start is not None and end is not None and start >= end:
        raise PeriodError("since must be before until")
    return start, end


@dataclass(frozen=True)
class FaqReport:
    clusters: list[Cluster]
    questions: int  # how many customer messages were clustered
    capped: bool  # the period held more than MAX_QUESTIONS: only the newest were read


@dataclass(frozen=True)
class Draft:
    """What "write an article / a canned answer from this cluster" starts from."""

    title: str
    answers: list[str]

    @property
    def body(self) -> str:
        return "\n\n".join(self.answers)


def questions_in(
    session: Session,
    workspace_ids: Collection[int],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    account_id: int | None = None,
    topic: str | None = None,
) -> tuple[list[Question], bool]:
    """The period's customer messages, newest first, without bare thank-yous. ``topic``:
    the message's own triage topic, or its ticket's (which an agent may have corrected)."""
    query = select(Message.id, Message.body, Message.ticket_id).where(
        Message.workspace_id.in_(workspace_ids), Message.direction == Direction.INBOUND
    )
    if since is not None:
        query = query.where(Message.created_at >= since)
    if until is not None:
        query = query.where(Message.created_at < until)
    if account_id is not None:
        query = query.where(Message.channel_account_id == account_id)
    if topic is not None:
        query = query.join(Ticket, Ticket.id == Message.ticket_id).where(
            or_(Message.triage["topic"].as_string() == topic, Ticket.topic == topic)
        )
    rows = session.execute(
        query.order_by(Message.created_at.desc(), Message.id.desc()).limit(MAX_QUESTIONS + 1)
    ).all()
    capped = len(rows) > MAX_QUESTIONS
    found = [
        Question(key, body, ticket_id)
        for key, body, ticket_id in rows[:MAX_QUESTIONS]
        if body and not is_gratitude_only(body)
    ]
    return found, capped


def references(session: Session, workspace_ids: Collection[int]) -> list[Reference]:
    """Published articles and canned answers: what may already answer a cluster."""
    articles = session.scalars(
        select(Article).where(
            Article.workspace_id.in_(workspace_ids), Article.status == "published"
        )
    )
    canned = session.scalars(
        select(CannedResponse).where(CannedResponse.workspace_id.in_(workspace_ids))
    )
    return [Reference("article", a.id, a.title, a.body) for a in articles] + [
        Reference("canned", c.id, c.title or c.shortcut, c.body) for c in canned
    ]


def frequent_questions(
    session: Session,
    workspace_ids: Collection[int],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    account_id: int | None = None,
    topic: str | None = None,
    limit: int = 20,
) -> FaqReport:
    questions, capped = questions_in(
        session, workspace_ids, since=since, until=until, account_id=account_id, topic=topic
    )
    clusters = find_clusters(questions, references(session, workspace_ids), limit=limit)
    return FaqReport(clusters, len(questions), capped)


def draft_from(session: Session, cluster: Cluster, limit: int = 3) -> Draft:
    """A title from the cluster's label and the team's most typical replies to it: on each
    of its tickets, the first reply sent after the customer's question."""
    tickets = cluster.tickets[:ANSWER_TICKETS]
    asked = dict(
        session.execute(
            select(Message.ticket_id, Message.created_at).where(Message.id.in_(cluster.members))
        ).all()
    )
    replies = session.execute(
        select(Message.ticket_id, Message.body, Message.created_at, Message.meta)
        .where(
            Message.ticket_id.in_(tickets),
            # Every reply from the brand: an agent's, or one replayed from its history.
            Message.direction == Direction.OUTBOUND,
            Message.author_name != AUTOMATION,
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    first: dict[int, str] = {}
    for ticket_id, body, created_at, meta in replies:
        if is_automatic(body, meta):
            continue
        question_at = asked.get(ticket_id)
        if ticket_id not in first and (question_at is None or created_at >= question_at):
            first[ticket_id] = body
    return Draft(title_from(cluster.terms), best_answers(list(first.values()), limit))


def is_automatic(body: str, meta: dict[str, object] | None) -> bool:
    """A reply no person wrote (a rule's acknowledgement, the out-of-hours notice, the
    check-in after solving) or one that only acknowledges: never a draft's answer."""
    if meta and meta.get("automated"):
        return True
    return bool(_ACKNOWLEDGEMENT.search(body)) and len(body) < ACKNOWLEDGEMENT_CHARS


def cluster_by_members(clusters: Sequence[Cluster], member: int) -> Cluster | None:
    """The cluster holding a question (how a page names a cluster between requests)."""
    return next((c for c in clusters if member in c.members), None)

"""Service metrics from the ticket event log: pure functions, no database.

``fold_ticket`` turns one ticket's events into the facts every metric needs;
``aggregate`` groups those facts into report rows. The definitions are written out in
docs/reports.md; the loading lives in ``reports/overview.py``.

Two kinds of figure share a row. Cohort figures (opened, first response, resolution,
response rate within 24 h, replies, touches, net-new customers, peer answers) describe
the tickets *opened* in the period, grouped by their opening day. Event figures (solved,
CSAT) count what *happened* in the period, grouped by the day it happened, whichever
period the ticket was opened in.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

RESPONSE_WINDOW = timedelta(hours=24)
# Channels that are not social networks: a customer first met there is not "net new
# through social".
NOT_SOCIAL = frozenset({"email", "web", "phone", "walk_in", "other"})


class GroupBy(StrEnum):
    DAY = "day"
    CHANNEL = "channel"
    ACCOUNT = "account"
    TEAM = "team"
    AGENT = "agent"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class EventRow:
    """The part of a ticket event the metrics read."""

    kind: str
    at: datetime
    actor_user_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TicketFacts:
    ticket_id: int
    opened_at: datetime
    channel: str
    account_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    first_responder_id: int | None = None
    next_response_seconds: tuple[float, ...] = ()
    solved_at: tuple[datetime, ...] = ()
    reopens: int = 0
    replies: int = 0
    # Who wrote each reply: a user id, or None for the brand account itself (a reply
    # made on the network, outside the desk, as replayed history has).
    reply_actors: tuple[int | None, ...] = ()
    notes: int = 0
    auto_replies: int = 0
    touches: int = 0
    csat: tuple[tuple[datetime, int], ...] = ()
    # Seconds an agent spent on the customer, where measured (a logged contact's handle
    # time, or a reply event carrying ``handle_seconds``).
    handle_seconds: tuple[float, ...] = ()
    net_new_customer: bool = False
    peer_answered: bool = False

    @property
    def first_response_seconds(self) -> float | None:
        if self.first_inbound_at is None or self.first_response_at is None:
            return None
        return (self.first_response_at - self.first_inbound_at).total_seconds()

    @property
    def resolution_seconds(self) -> float | None:
        return (self.solved_at[0] - self.opened_at).total_seconds() if self.solved_at else None

    @property
    def full_resolution_seconds(self) -> float | None:
        return (self.solved_at[-1] - self.opened_at).total_seconds() if self.solved_at else None


# Events that may carry the time an agent spent (``handle_seconds``).
HANDLE_KINDS = frozenset({"contact_logged", "replied"})
# Events that make their actor one of the ticket's touches (besides replies and notes).
TOUCH_KINDS = frozenset({"assigned", "status_changed", "contact_logged"})


def _measured(seconds: object) -> bool:
    return isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0


def _solves(event: EventRow) -> bool:
    return event.kind in ("status_changed", "reopened") and event.data.get("to") == "solved"


def fold_ticket(
    ticket_id: int,
    events: Iterable[EventRow],
    *,
    channel: str,
    account_id: int | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    net_new_customer: bool = False,
    peer_answered: bool = False,
) -> TicketFacts | None:
    """One ticket's facts from its events (any order); None without a ``created`` event."""
    ordered = sorted(events, key=lambda e: e.at)
    created = [e.at for e in ordered if e.kind == "created"]
    if not created:
        return None
    first_inbound: datetime | None = None
    first_response: datetime | None = None
    responder: int | None = None
    next_responses: list[float] = []
    solved: list[datetime] = []
    reopens = replies = notes = auto = 0
    agents: set[int] = set()
    actors: list[int | None] = []
    csat: list[tuple[datetime, int]] = []
    handled: list[float] = []
    for event in ordered:
        if event.kind in HANDLE_KINDS and _measured(event.data.get("handle_seconds")):
            handled.append(float(event.data["handle_seconds"]))
        if event.kind == "message_received":
            if first_inbound is None:
                first_inbound = event.at
        elif event.kind == "replied":
            replies += 1
            actors.append(event.actor_user_id)
            if event.actor_user_id is not None:
                agents.add(event.actor_user_id)
            if first_inbound is not None and first_response is None:
                first_response, responder = event.at, event.actor_user_id
            elif first_response is not None:
                waited = event.data.get("response_seconds")
                if isinstance(waited, int | float) and math.isfinite(waited) and waited >= 0:
                    next_responses.append(float(waited))
        elif event.kind == "note_added":
            notes += 1
            if event.actor_user_id is not None:
                agents.add(event.actor_user_id)
        elif event.kind == "auto_replied":
            auto += 1
        elif event.kind == "csat_recorded":
            score = event.data.get("score")
            if isinstance(score, int) and 1 <= score <= 5:
                csat.append((event.at, score))
        if _solves(event):
            solved.append(event.at)
        if event.kind == "reopened":
            reopens += 1
        elif event.kind in TOUCH_KINDS and event.actor_user_id is not None:
            agents.add(event.actor_user_id)
    return TicketFacts(
        ticket_id=ticket_id,
        opened_at=created[0],
        channel=channel,
        account_id=account_id,
        team_id=team_id,
        assignee_id=assignee_id,
        first_inbound_at=first_inbound,
        first_response_at=first_response,
        first_responder_id=responder,
        next_response_seconds=tuple(next_responses),
        solved_at=tuple(solved),
        reopens=reopens,
        replies=replies,
        reply_actors=tuple(actors),
        notes=notes,
        auto_replies=auto,
        touches=len(agents),
        csat=tuple(csat),
        handle_seconds=tuple(handled),
        net_new_customer=net_new_customer,
        peer_answered=peer_answered,
    )


# -- statistics ---------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count)."""
    return float(statistics.median(values)) if values else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below
    it (so the p90 of ten values is the ninth)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return float(ordered[rank - 1])


def answered_within(facts: TicketFacts, now: datetime) -> bool | None:
    """True/False when the ticket counts for the 24-hour response rate, None when it does
    not count yet (no customer message, or under 24 hours old and unanswered)."""
    if facts.first_inbound_at is None:
        return None
    seconds = facts.first_response_seconds
    if seconds is not None and seconds <= RESPONSE_WINDOW.total_seconds():
        return True
    if now - facts.first_inbound_at < RESPONSE_WINDOW:
        return None
    return False


# -- grouping -----------------------------------------------------------------------

FIELDS = (
    "key",
    "label",
    "opened",
    "solved",
    "responded",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "first_response_average_seconds",
    "next_response_median_seconds",
    "resolution_median_seconds",
    "full_resolution_median_seconds",
    "reopened",
    "reopen_rate",
    "replies_per_ticket",
    "touches_average",
    "handled",
    "handle_median_seconds",
    "handle_average_seconds",
    "notes",
    "auto_replies",
    "answered_24h",
    "eligible_24h",
    "response_rate_24h",
    "net_new_customers",
    "peer_answers",
    "csat_average",
    "csat_responses",
)


@dataclass(slots=True)
class _Bucket:
    opened: list[TicketFacts] = field(default_factory=list)
    solved: int = 0
    csat: list[int] = field(default_factory=list)


def _round(value: float | None, places: int = 0) -> float | int | None:
    if value is None:
        return None
    return round(value) if places == 0 else round(value, places)


def summarize(key: str, label: str, bucket: _Bucket, now: datetime) -> dict[str, Any]:
    opened = bucket.opened
    first = [s for f in opened if (s := f.first_response_seconds) is not None]
    resolution = [s for f in opened if (s := f.resolution_seconds) is not None]
    full = [s for f in opened if (s := f.full_resolution_seconds) is not None]
    following = [s for f in opened for s in f.next_response_seconds]
    within = [w for f in opened if (w := answered_within(f, now)) is not None]
    reopened = sum(1 for f in opened if f.reopens)
    handled = [s for f in opened for s in f.handle_seconds]
    return {
        "key": key,
        "label": label,
        "opened": len(opened),
        "solved": bucket.solved,
        "responded": len(first),
        "first_response_median_seconds": _round(median(first)),
        "first_response_p90_seconds": _round(percentile(first, 0.9)),
        "first_response_average_seconds": _round(statistics.fmean(first) if first else None),
        "next_response_median_seconds": _round(median(following)),
        "resolution_median_seconds": _round(median(resolution)),
        "full_resolution_median_seconds": _round(median(full)),
        "reopened": reopened,
        "reopen_rate": _round(reopened / len(resolution), 4) if resolution else None,
        "replies_per_ticket": _round(sum(f.replies for f in opened) / len(opened), 2)
        if opened
        else None,
        "touches_average": _round(sum(f.touches for f in opened) / len(opened), 2)
        if opened
        else None,
        "handled": len(handled),
        "handle_median_seconds": _round(median(handled)),
        "handle_average_seconds": _round(statistics.fmean(handled) if handled else None),
        "notes": sum(f.notes for f in opened),
        "auto_replies": sum(f.auto_replies for f in opened),
        "answered_24h": sum(within),
        "eligible_24h": len(within),
        "response_rate_24h": _round(sum(within) / len(within), 4) if within else None,
        "net_new_customers": sum(1 for f in opened if f.net_new_customer),
        "peer_answers": sum(1 for f in opened if f.peer_answered),
        "csat_average": _round(statistics.fmean(bucket.csat), 2) if bucket.csat else None,
        "csat_responses": len(bucket.csat),
    }


def local_day(at: datetime, zone: tzinfo) -> date:
    return at.astimezone(zone).date()


def days_between(since: datetime, until: datetime, zone: tzinfo) -> list[date]:
    """Every local day that overlaps [since, until)."""
    first = local_day(since, zone)
    last = local_day(until - timedelta(microseconds=1), zone)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime
    zone: tzinfo

    def holds(self, at: datetime) -> bool:
        return self.since <= at < self.until


def _dimension(by: GroupBy, facts: TicketFacts) -> str:
    value: object
    if by == GroupBy.CHANNEL:
        value = facts.channel
    elif by == GroupBy.ACCOUNT:
        value = facts.account_id
    elif by == GroupBy.TEAM:
        value = facts.team_id
    elif by == GroupBy.AGENT:
        value = facts.assignee_id
    else:
        return "all"
    return "" if value is None else str(value)


def aggregate(
    facts: Iterable[TicketFacts],
    by: GroupBy,
    period: Period,
    now: datetime,
    labels: Callable[[str], str] = lambda key: key or "(none)",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Report rows (one per group, days in order with empty days included) and totals."""
    buckets: dict[str, _Bucket] = {}
    total = _Bucket()
    if by == GroupBy.DAY:
        for day in days_between(period.since, period.until, period.zone):
            buckets[day.isoformat()] = _Bucket()
    elif by == GroupBy.NONE:
        buckets["all"] = _Bucket()

    def key_at(f: TicketFacts, at: datetime) -> str:
        return local_day(at, period.zone).isoformat() if by == GroupBy.DAY else _dimension(by, f)

    for f in facts:
        if period.holds(f.opened_at):
            buckets.setdefault(key_at(f, f.opened_at), _Bucket()).opened.append(f)
            total.opened.append(f)
        for at in f.solved_at:
            if period.holds(at):
                buckets.setdefault(key_at(f, at), _Bucket()).solved += 1
                total.solved += 1
        for at, score in f.csat:
            if period.holds(at):
                buckets.setdefault(key_at(f, at), _Bucket()).csat.append(score)
                total.csat.append(score)
    keys = list(buckets) if by == GroupBy.DAY else sorted(buckets, key=lambda k: labels(k))
    rows = [summarize(k, k if by == GroupBy.DAY else labels(k), buckets[k], now) for k in keys]
    return rows, summarize("total", "Total", total, now)

"""The radar's pass over the database: index new negative inbound posts into
``radar_posts``, count them per (account, topic, bucket) from one covering index, run
``detection.detect`` from the first bucket that changed, and store what it finds.

Incremental and replay-safe: new messages are read by id after the last one seen, so a
replay's historical posts are indexed with their historical times and move the
evaluation back to their bucket; detection is a pure function of the counts, and
incidents are kept by (account, topic, start), so evaluating a range again finds the
same incidents and updates them instead of raising them twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from socialdesk.actions.incidents import raise_incident
from socialdesk.config import get_settings
from socialdesk.domain.enums import Direction
from socialdesk.radar.detection import BUCKET_SECONDS, DEFAULT, Params, Span, bucket_of, detect
from socialdesk.store.db import Database, utcnow
from socialdesk.store.leases import single_runner
from socialdesk.store.models import (
    Incident,
    IncidentTicket,
    Message,
    RadarPost,
    RadarState,
    Workspace,
)
from socialdesk.store.models.base import table_of

log = logging.getLogger(__name__)
INDEX_BATCH = 5000
_posts = table_of(RadarPost)
_links = table_of(IncidentTicket)


@dataclass
class ScanResult:
    indexed: int = 0
    raised: list[int] = field(default_factory=list)
    updated: int = 0
    closed: int = 0


def bucket_start(bucket: int) -> datetime:
    return datetime.fromtimestamp(bucket * BUCKET_SECONDS, UTC)


def _state(session: Session, workspace_id: int) -> RadarState:
    state = session.get(RadarState, workspace_id)
    if state is None:
        state = RadarState(workspace_id=workspace_id, last_message_id=0, next_bucket=None)
        session.add(state)
    return state


def index_new_posts(
    session: Session, workspace_id: int, state: RadarState
) -> tuple[int, int | None]:
    """Negative inbound posts stored since the last pass into ``radar_posts``: how many,
    and the earliest bucket among them."""
    indexed, earliest = 0, None
    while True:
        rows = session.execute(
            select(
                Message.id,
                Message.ticket_id,
                Message.channel_account_id,
                Message.created_at,
                Message.triage,
            )
            .where(
                Message.workspace_id == workspace_id,
                Message.id > state.last_message_id,
                Message.direction == str(Direction.INBOUND),
            )
            .order_by(Message.id)
            .limit(INDEX_BATCH)
        ).all()
        if not rows:
            return indexed, earliest
        values = []
        for message_id, ticket_id, account_id, created_at, triage in rows:
            triage = triage or {}
            topic = triage.get("topic")
            if triage.get("sentiment") != "negative" or not topic or account_id is None:
                continue
            bucket = bucket_of(created_at.timestamp())
            earliest = bucket if earliest is None else min(earliest, bucket)
            values.append(
                {
                    "workspace_id": workspace_id,
                    "channel_account_id": account_id,
                    "topic": str(topic)[:80],
                    "bucket": bucket,
                    "posted_at": created_at,
                    "message_id": message_id,
                    "ticket_id": ticket_id,
                }
            )
        if values:
            session.execute(insert(_posts), values)
        indexed += len(values)
        state.last_message_id = rows[-1][0]


def bucket_counts(
    session: Session, workspace_id: int, first: int, last: int
) -> dict[tuple[int, str], dict[int, int]]:
    """Posts per (account, topic) per bucket in ``first`` … ``last``: one grouped read of
    ``ix_radar_posts_ws_bucket``."""
    counts: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    rows = session.execute(
        select(RadarPost.channel_account_id, RadarPost.topic, RadarPost.bucket, func.count())
        .where(
            RadarPost.workspace_id == workspace_id,
            RadarPost.bucket >= first,
            RadarPost.bucket <= last,
        )
        .group_by(RadarPost.bucket, RadarPost.channel_account_id, RadarPost.topic)
    )
    for account_id, topic, bucket, n in rows:
        counts[(account_id, topic)][bucket] = n
    return counts


def _evaluation_start(session: Session, workspace_id: int, next_bucket: int, params: Params) -> int:
    """Where to evaluate from: the buckets not evaluated yet, or earlier, the start of an
    incident still open or that ended recently enough that its span may grow again."""
    reach = bucket_start(next_bucket - params.quiet_buckets - params.window_buckets)
    earliest = session.scalar(
        select(func.min(Incident.started_at)).where(
            Incident.workspace_id == workspace_id,
            or_(Incident.state == "open", Incident.ended_at >= reach),
            Incident.closed_by_user_id.is_(None),
        )
    )
    if earliest is None:
        return next_bucket
    return min(next_bucket, bucket_of(earliest.timestamp()))


def _post_time(
    session: Session, workspace_id: int, key: tuple[int, str], bucket: int, nth: int
) -> datetime:
    """The ``nth`` post (1-based) of a key's bucket: the one that crossed the line."""
    found = session.scalars(
        select(RadarPost.posted_at)
        .where(
            RadarPost.workspace_id == workspace_id,
            RadarPost.bucket == bucket,
            RadarPost.channel_account_id == key[0],
            RadarPost.topic == key[1],
        )
        .order_by(RadarPost.posted_at.desc(), RadarPost.message_id.desc())
        .limit(1)
        if nth <= 0
        else select(RadarPost.posted_at)
        .where(
            RadarPost.workspace_id == workspace_id,
            RadarPost.bucket == bucket,
            RadarPost.channel_account_id == key[0],
            RadarPost.topic == key[1],
        )
        .order_by(RadarPost.posted_at, RadarPost.message_id)
        .offset(nth - 1)
        .limit(1)
    ).first()
    if found is None:  # fewer posts than nth: the bucket's last one (or its start)
        return (
            _post_time(session, workspace_id, key, bucket, 0) if nth > 0 else bucket_start(bucket)
        )
    return found


def _store(
    session: Session, workspace_id: int, key: tuple[int, str], span: Span, now: datetime,
    result: ScanResult, evaluated_from: int,
) -> None:  # fmt: skip
    started_at = _post_time(session, workspace_id, key, span.start_bucket, 1)
    # The incident this span is, found by overlap rather than by its exact start: a late
    # post (out of order, or a replay) may move the first post, never the incident.
    incident = session.scalars(
        select(Incident)
        .where(
            Incident.workspace_id == workspace_id,
            Incident.channel_account_id == key[0],
            Incident.topic == key[1],
            Incident.started_at < bucket_start(span.last_elevated + 1),
            or_(
                Incident.ended_at.is_(None),
                Incident.ended_at >= bucket_start(span.start_bucket),
            ),
        )
        .order_by(Incident.started_at)
        .limit(1)
    ).first()
    ended_at = bucket_start(span.last_elevated + 1) if span.closed else None
    new = incident is None
    if incident is not None and incident.started_at != started_at:
        incident.started_at = started_at
    if incident is None:
        incident = Incident(
            workspace_id=workspace_id, channel_account_id=key[0], topic=key[1],
            started_at=started_at, state="open",
            raised_at=_post_time(session, workspace_id, key, span.raise_bucket, span.raise_nth),
        )  # fmt: skip
        session.add(incident)
    if incident.closed_by_user_id is None:
        if span.closed and incident.state == "open":
            result.closed += 1
        incident.state = "closed" if span.closed else "open"
        incident.ended_at = ended_at
    incident.peak_at = bucket_start(span.peak_bucket)
    incident.size, incident.peak_count = span.size, span.peak_count
    incident.baseline, incident.surprise = span.baseline, min(span.surprise, 1e6)
    session.flush()
    # Tickets of the buckets this pass evaluated (earlier ones were linked before).
    low = span.start_bucket if new else max(span.start_bucket, evaluated_from - 1)
    tickets = set(
        session.scalars(
            select(RadarPost.ticket_id).where(
                RadarPost.workspace_id == workspace_id,
                RadarPost.channel_account_id == key[0],
                RadarPost.topic == key[1],
                RadarPost.bucket >= low,
                RadarPost.bucket <= span.last_elevated,
            )
        )
    )
    linked = set()
    if tickets and not new:
        linked = set(
            session.scalars(
                select(IncidentTicket.ticket_id).where(
                    IncidentTicket.incident_id == incident.id,
                    IncidentTicket.ticket_id.in_(sorted(tickets)),
                )
            )
        )
    if tickets - linked:
        session.execute(
            insert(_links),
            [{"incident_id": incident.id, "ticket_id": t} for t in sorted(tickets - linked)],
        )
    if new:
        settings = get_settings()
        raise_incident(
            session, incident, now=now, public_url=settings.public_url,
            smtp_configured=bool(settings.smtp_host),
        )  # fmt: skip
        result.raised.append(incident.id)
    else:
        result.updated += 1


def scan_workspace(
    session: Session, workspace_id: int, now: datetime, params: Params = DEFAULT,
    since: datetime | None = None,
) -> ScanResult:  # fmt: skip
    """One workspace's pass, in the caller's write transaction."""
    result = ScanResult()
    state = _state(session, workspace_id)
    indexed, earliest = index_new_posts(session, workspace_id, state)
    result.indexed = indexed
    now_bucket = bucket_of(now.timestamp())
    next_bucket = state.next_bucket if state.next_bucket is not None else now_bucket
    if earliest is not None:
        next_bucket = min(next_bucket, earliest)
    if since is not None:
        next_bucket = min(next_bucket, bucket_of(since.timestamp()))
    first = _evaluation_start(session, workspace_id, next_bucket, params)
    first = min(first, now_bucket)
    reach = first - params.window_buckets - params.baseline_buckets + 1
    counts = bucket_counts(session, workspace_id, reach, now_bucket)
    # Each account's first bucket in range: within a day of it nothing opens (a new desk,
    # the first day of a replay). The range reaches 49 hours back, so an account that
    # posted then is known.
    seen_from: dict[int, int] = {}
    occupied: dict[int, set[int]] = defaultdict(set)
    for (account_id, _), key_counts in counts.items():
        earliest_key = min(key_counts)
        seen_from[account_id] = min(seen_from.get(account_id, earliest_key), earliest_key)
        occupied[account_id].update(key_counts)
    account_history = {a: sorted(buckets) for a, buckets in occupied.items()}
    for key in sorted(counts):
        key_counts = counts[key]
        # Only buckets from the key's first post in range on can open anything.
        start = max(first, min(key_counts))
        spans = detect(
            key_counts, start, now_bucket, params, seen_from[key[0]], account_history[key[0]]
        )
        for span in spans:
            _store(session, workspace_id, key, span, now, result, first)
    # The current bucket is still filling: the next pass evaluates it again.
    state.next_bucket = now_bucket
    return result


def scan(
    db: Database, now: datetime | None = None, *, since: datetime | None = None,
    params: Params = DEFAULT, progress: Callable[[int, int], None] | None = None,
) -> ScanResult | None:  # fmt: skip
    """The periodic pass over every workspace; None when another process has the turn."""
    now = now or utcnow()
    total = ScanResult()
    with single_runner(db, "crisis-radar") as mine:
        if not mine:
            return None
        with db.session() as s:
            workspace_ids = list(s.scalars(select(Workspace.id).order_by(Workspace.id)))
        for n, workspace_id in enumerate(workspace_ids):
            with db.write() as s:
                found = scan_workspace(s, workspace_id, now, params, since)
            total.indexed += found.indexed
            total.raised += found.raised
            total.updated += found.updated
            total.closed += found.closed
            if progress is not None:
                progress(n + 1, len(workspace_ids))
    if total.raised:
        log.info("crisis radar raised %d incident(s)", len(total.raised))
    return total

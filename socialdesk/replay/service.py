"""``socialdesk replay PATH``: load a twcs file through the full pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.domain.enums import AccountStatus, Direction, Platform
from socialdesk.domain.messages import InboundMessage
from socialdesk.pipeline.identities import chunks
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.runner import run_with_raw_events
from socialdesk.replay.twcs import brand_handles, read_rows, to_messages
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, Message

ALREADY_LOADED = "already loaded by an earlier replay"
NO_CREDENTIALS = "replayed history: no access token yet; re-authorize it to answer"


@dataclass(slots=True)
class ReplayReport:
    rows_read: int = 0
    rows_loaded: int = 0
    tickets_created: int = 0
    accounts_created: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # How far the posts' times were moved (``end_at``), so the report can say so.
    shifted_by: timedelta | None = None

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())


def replay_twcs(
    db: Database,
    path: Path,
    *,
    pipeline: Pipeline,
    workspace_slug: str = "default",
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    end_at: datetime | None = None,
) -> ReplayReport:
    """Load ``path``; with ``end_at``, every post's time moves by the same amount so the
    newest lands at ``end_at`` (a demo that looks like today's traffic, gaps intact)."""
    rows, bad = read_rows(path)
    report = ReplayReport(rows_read=len(rows) + sum(bad.values()), skipped=dict(bad))
    with db.write() as session:
        workspace = ensure_workspace(session, workspace_slug)
        account_ids: dict[str, int] = {}
        for handle in brand_handles(rows):
            account = session.scalar(
                select(ChannelAccount).where(
                    ChannelAccount.platform == str(Platform.X), ChannelAccount.external_id == handle
                )
            )
            if account is None:
                account = create_channel_account(
                    session,
                    None,
                    workspace_id=workspace.id,
                    platform=Platform.X,
                    handle=handle,
                    external_id=handle,
                    settings={"source": "replay"},
                )
                # History comes without credentials: the account cannot answer until it
                # is connected (`socialdesk demo` connects it to the X emulator).
                account.status = str(AccountStatus.NEEDS_REAUTH)
                account.status_reason = NO_CREDENTIALS
                report.accounts_created += 1
            account_ids[handle] = account.id
    items, skipped = to_messages(rows, account_ids)
    if end_at is not None and items:
        report.shifted_by = end_at - max(m.created_at for m, _ in items)
        items = [(replace(m, created_at=m.created_at + report.shifted_by), raw) for m, raw in items]
    for reason, count in skipped.items():
        report.skipped[reason] = report.skipped.get(reason, 0) + count

    # Rows stored by an earlier run are not stored again, not even as raw events.
    with db.session() as session:
        loaded: set[tuple[int, str]] = set()
        by_account: dict[int, list[str]] = {}
        for message, _ in items:
            by_account.setdefault(message.channel_account_id, []).append(
                message.platform_message_id
            )
        for account_id, ids in by_account.items():
            for part in chunks(ids):
                loaded.update(
                    (account_id, pid or "")
                    for pid in session.scalars(
                        select(Message.platform_message_id).where(
                            Message.channel_account_id == account_id,
                            Message.platform_message_id.in_(part),
                        )
                    )
                )
    todo = [
        (m, raw) for m, raw in items if (m.channel_account_id, m.platform_message_id) not in loaded
    ]
    if len(todo) < len(items):
        report.skipped[ALREADY_LOADED] = len(items) - len(todo)
    if on_start:
        on_start(len(todo))
    totals = run_with_raw_events(db, pipeline, todo, source="replay:twcs", on_progress=on_progress)
    _note_last_received(db, [m for m, _ in todo])
    report.rows_loaded = totals.stored
    report.tickets_created = totals.tickets_created
    report.failed = totals.failed
    report.errors = totals.errors
    for reason, count in totals.skipped.items():
        report.skipped[reason] = report.skipped.get(reason, 0) + count
    return report


def _note_last_received(db: Database, messages: list[InboundMessage]) -> None:
    """Each brand account's newest replayed customer post, as channel health shows it."""
    newest: dict[int, datetime] = {}
    for m in messages:
        if m.direction == Direction.INBOUND:
            seen = newest.get(m.channel_account_id)
            newest[m.channel_account_id] = m.created_at if seen is None else max(seen, m.created_at)
    if not newest:
        return
    with db.write() as session:
        for account in session.scalars(
            select(ChannelAccount).where(ChannelAccount.id.in_(list(newest)))
        ):
            at = newest[account.id]
            if account.last_received_at is None or account.last_received_at < at:
                account.last_received_at = at

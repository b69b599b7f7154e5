"""Loading and saving SLA policies and clocks with set queries (one per batch)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from socialdesk.domain.sla_clock import SlaTarget
from socialdesk.pipeline.identities import chunks
from socialdesk.sla.clocks import Clock, ClockStatus
from socialdesk.sla.policies import PolicySpec, select_policy, spec_from_row
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.models import SlaClock, SlaPolicy
from socialdesk.store.models.base import table_of

log = logging.getLogger(__name__)
clocks_table = table_of(SlaClock)
policies_table = table_of(SlaPolicy)

_STORED = (
    "target_seconds",  # a priority change re-targets a clock (clocks.retarget_clock)
    "status",
    "running_since",
    "paused_since",
    "elapsed_seconds",
    "due_at",
    "warning_at",
    "warned",
    "breached",
    "breached_at",
    "fulfilled_at",
    "next_check_at",
)


def load_policies(conn: Connection, workspace_ids: Iterable[int]) -> dict[int, list[PolicySpec]]:
    """Enabled and disabled policies per workspace (a ticket keeps its policy)."""
    wanted = sorted(set(workspace_ids))
    out: dict[int, list[PolicySpec]] = {w: [] for w in wanted}
    if not wanted:
        return out
    rows = conn.execute(select(policies_table).where(policies_table.c.workspace_id.in_(wanted)))
    for row in rows:
        try:
            out[row.workspace_id].append(spec_from_row(row))
        except ValueError:
            # Validated when written; a policy broken by, say, a removed time zone is
            # skipped rather than stopping the pipeline.
            log.warning("SLA policy %s is invalid and is skipped", row.id, exc_info=True)
    return out


def policy_for(
    policies: Sequence[PolicySpec], policy_id: int | None, channel: str
) -> PolicySpec | None:
    """The ticket's own policy when it has one, else the first that covers the channel."""
    if policy_id is not None:
        for policy in policies:
            if policy.id == policy_id:
                return policy
    return select_policy(policies, channel)


def _clock_from_row(row: Any) -> Clock:
    return Clock(
        target=SlaTarget(row.target),
        duration=timedelta(seconds=row.target_seconds),
        warn_share=row.warn_share,
        started_at=row.started_at,
        cycle=row.cycle,
        status=ClockStatus(row.status),
        running_since=row.running_since,
        paused_since=row.paused_since,
        elapsed=timedelta(seconds=row.elapsed_seconds),
        due_at=row.due_at,
        warning_at=row.warning_at,
        warned=row.warned,
        breached=row.breached,
        breached_at=row.breached_at,
        fulfilled_at=row.fulfilled_at,
        id=row.id,
        policy_id=row.policy_id,
        dirty=False,
    )


def load_clocks(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, list[Clock]]:
    out: dict[int, list[Clock]] = {}
    for part in chunks(sorted(set(ticket_ids))):
        for row in conn.execute(select(clocks_table).where(clocks_table.c.ticket_id.in_(part))):
            out.setdefault(row.ticket_id, []).append(_clock_from_row(row))
    return out


def _values(clock: Clock) -> dict[str, Any]:
    return {
        "target_seconds": clock.duration.total_seconds(),
        "status": str(clock.status),
        "running_since": clock.running_since,
        "paused_since": clock.paused_since,
        "elapsed_seconds": clock.elapsed.total_seconds(),
        "due_at": clock.due_at,
        "warning_at": clock.warning_at,
        "warned": clock.warned,
        "breached": clock.breached,
        "breached_at": clock.breached_at,
        "fulfilled_at": clock.fulfilled_at,
        "next_check_at": clock.next_check_at,
    }


def save_clocks(conn: Connection, owned: Iterable[tuple[int, int, Clock]]) -> None:
    """Insert new and update changed clocks; ``owned`` is (ticket id, workspace id, clock)."""
    new_rows: list[dict[str, Any]] = []
    new_clocks: list[Clock] = []
    updates: list[dict[str, Any]] = []
    for ticket_id, workspace_id, clock in owned:
        if clock.id is None:
            new_clocks.append(clock)
            new_rows.append(
                {
                    "ticket_id": ticket_id,
                    "workspace_id": workspace_id,
                    "policy_id": clock.policy_id,
                    "target": str(clock.target),
                    "cycle": clock.cycle,
                    "warn_share": clock.warn_share,
                    "started_at": clock.started_at,
                    **_values(clock),
                }
            )
        elif clock.dirty:
            updates.append({"b_id": clock.id, **_values(clock)})
        clock.dirty = False
    if new_rows:
        ids = insert_with_ids(conn, clocks_table, new_rows)
        for clock, new_id in zip(new_clocks, ids, strict=True):
            clock.id = new_id
    if updates:
        conn.execute(
            update(clocks_table)
            .where(clocks_table.c.id == bindparam("b_id"))
            .values({name: bindparam(name) for name in _STORED}),
            updates,
        )

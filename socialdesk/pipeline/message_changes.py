"""Edits and removals of messages already stored, for any network.

A delivery that carries ``InboundMessage.change`` names a post we may have: its text
is replaced (the previous text kept in ``meta.edits`` and a ``message_edited`` ticket
event) or it is marked removed by its author (``meta.removed_at``; the text stays for
the record). Redelivering the same change does nothing, and an edit older than the
last one applied is ignored, so order and repeats do not matter. The caller creates
the message from an edit whose original it never saw (``plan_changes`` says which).

Pure decisions (``decide``) are separate from the two set-based queries and the
batched writes (``apply_changes``), so the rules have table-driven tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from socialdesk.domain.enums import TicketEventKind
from socialdesk.domain.messages import InboundMessage, MessageChange
from socialdesk.pipeline.identities import chunks
from socialdesk.store.db import utcnow
from socialdesk.store.models import Message, Ticket, TicketEvent
from socialdesk.store.models.base import table_of

_messages = table_of(Message)
_tickets = table_of(Ticket)
_events = table_of(TicketEvent)

Key = tuple[int, str]  # (channel account id, platform message id)


class ChangeSkip:
    UNCHANGED = "duplicate"  # the same edit or removal again, or an older edit
    UNKNOWN_REMOVED = "removal of a message never stored"


def changed_at(m: InboundMessage) -> datetime:
    return m.changed_at or m.created_at


@dataclass(slots=True)
class StoredState:
    """What a change needs to know about a stored message."""

    id: int
    ticket_id: int
    workspace_id: int
    body: str
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Decision:
    """What one change does to a stored message: a new state and the event, or a skip."""

    state: StoredState | None = None
    event: dict[str, Any] | None = None
    kind: TicketEventKind | None = None
    skip: str | None = None


def decide(stored: StoredState, m: InboundMessage) -> Decision:
    """Apply one change to a stored message's state (pure; no database)."""
    meta = dict(stored.meta or {})
    at = changed_at(m).isoformat()
    if meta.get("removed_at"):
        return Decision(skip=ChangeSkip.UNCHANGED)  # nothing changes a removed message
    if m.change is MessageChange.REMOVED:
        meta["removed_at"] = at
        state = StoredState(stored.id, stored.ticket_id, stored.workspace_id, stored.body, meta)
        data = {"message_id": stored.id, "platform_message_id": m.platform_message_id}
        return Decision(state, {**data, "body": stored.body}, TicketEventKind.MESSAGE_REMOVED)
    last = meta.get("edited_at")
    if m.body == stored.body or (isinstance(last, str) and at < last):
        return Decision(skip=ChangeSkip.UNCHANGED)
    edits = list(meta.get("edits") or [])
    edits.append({"body": stored.body, "replaced_at": at})
    meta |= {"edited_at": at, "edits": edits}
    state = StoredState(stored.id, stored.ticket_id, stored.workspace_id, m.body, meta)
    data = {
        "message_id": stored.id,
        "platform_message_id": m.platform_message_id,
        "previous_body": stored.body,
        "body": m.body,
    }
    return Decision(state, data, TicketEventKind.MESSAGE_EDITED)


@dataclass(slots=True)
class ChangeOutcome:
    # position in the changes given → stored message id (None: skipped, see ``skips``)
    ids: dict[int, int | None] = field(default_factory=dict)
    skips: dict[int, str] = field(default_factory=dict)
    tickets: set[int] = field(default_factory=set)


def load_stored(conn: Connection, keys: set[Key]) -> dict[Key, StoredState]:
    """The stored messages for these keys, one ``IN`` query per chunk of ids."""
    found: dict[Key, StoredState] = {}
    for part in chunks(sorted({pid for _, pid in keys})):
        rows = conn.execute(
            select(
                _messages.c.id,
                _messages.c.ticket_id,
                _messages.c.workspace_id,
                _messages.c.channel_account_id,
                _messages.c.platform_message_id,
                _messages.c.body,
                _messages.c.meta,
            ).where(_messages.c.platform_message_id.in_(part))
        )
        for r in rows:
            key = (r.channel_account_id, r.platform_message_id)
            if key in keys:
                found[key] = StoredState(r.id, r.ticket_id, r.workspace_id, r.body, r.meta or {})
    return found


def to_create(changes: Sequence[InboundMessage], stored: dict[Key, StoredState]) -> list[int]:
    """Positions of edits whose original we never stored: the newest edit of each such
    message is stored as a new message carrying the edited text."""
    newest: dict[Key, int] = {}
    for position, m in enumerate(changes):
        key = (m.channel_account_id, m.platform_message_id)
        if m.change is not MessageChange.EDITED or key in stored:
            continue
        if key not in newest or changed_at(changes[newest[key]]) <= changed_at(m):
            newest[key] = position
    return sorted(newest.values())


def apply_changes(
    conn: Connection, changes: Sequence[InboundMessage], skip_positions: set[int]
) -> ChangeOutcome:
    """Apply every change (except ``skip_positions``, already stored as new messages)
    to the stored messages, oldest change first; a few queries per batch."""
    outcome = ChangeOutcome()
    keys = {(m.channel_account_id, m.platform_message_id) for m in changes}
    stored = load_stored(conn, keys)
    touched: dict[int, StoredState] = {}
    events: list[dict[str, Any]] = []
    order = sorted(
        (p for p in range(len(changes)) if p not in skip_positions),
        key=lambda p: changed_at(changes[p]),
    )
    for position in order:
        m = changes[position]
        key = (m.channel_account_id, m.platform_message_id)
        current = stored.get(key)
        if current is None:
            outcome.ids[position] = None
            outcome.skips[position] = ChangeSkip.UNKNOWN_REMOVED
            continue
        decision = decide(current, m)
        if decision.state is None or decision.kind is None:
            outcome.ids[position] = None
            outcome.skips[position] = decision.skip or ChangeSkip.UNCHANGED
            continue
        stored[key] = touched[current.id] = decision.state
        outcome.ids[position] = current.id
        outcome.tickets.add(current.ticket_id)
        events.append(
            {
                "ticket_id": current.ticket_id,
                "workspace_id": current.workspace_id,
                "kind": str(decision.kind),
                "actor": "customer",
                "data": decision.event,
                "created_at": changed_at(m),
            }
        )
    if touched:
        conn.execute(
            update(_messages)
            .where(_messages.c.id == bindparam("b_id"))
            .values(body=bindparam("b_body"), meta=bindparam("b_meta")),
            [{"b_id": s.id, "b_body": s.body, "b_meta": s.meta} for s in touched.values()],
        )
        conn.execute(
            update(_tickets)
            .where(_tickets.c.id == bindparam("b_id"))
            .values(updated_at=bindparam("b_now")),
            [{"b_id": t, "b_now": utcnow()} for t in sorted(outcome.tickets)],
        )
    if events:
        conn.execute(insert(_events), events)
    return outcome

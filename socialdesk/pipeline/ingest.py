"""The inbound pipeline: normalized messages in, tickets, messages and events out.

One call handles a batch (a webhook body, a poll page, a chunk of a replay) with a
handful of set-based queries, whatever the batch size:

    idempotency (account, platform message id) → identity/contact → threading
    → ticket create/update → pipeline steps (triage, routing, SLA) → write

Steps plug in through ``PipelineStep``: they see every touched ticket after
threading and may change its fields and append events before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, insert, select, update

from socialdesk.domain.attachments import AttachmentKind, describe
from socialdesk.domain.enums import Direction, TicketEventKind, TicketStatus
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.pipeline import message_changes, ticket_merge
from socialdesk.pipeline.identities import IdentityKey, chunks, resolve_contacts
from socialdesk.pipeline.thread_matching import ThreadIndex, load_thread_index
from socialdesk.pipeline.ticket_state import (
    MUTABLE_COLUMNS,
    PendingEvent,
    TicketState,
    apply_message,
    subject_from,
)
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ChannelAccount,
    Message,
    MessageAttachment,
    Ticket,
    TicketEvent,
)
from socialdesk.store.models.base import table_of

_accounts = table_of(ChannelAccount)
_messages = table_of(Message)
_attachments = table_of(MessageAttachment)
_tickets = table_of(Ticket)
_events = table_of(TicketEvent)


class SkipReason:
    DUPLICATE = "duplicate"
    UNKNOWN_ACCOUNT = "unknown channel account"
    UNTHREADED_BRAND_POST = "brand post outside any customer thread"


@dataclass(slots=True)
class PlacedMessage:
    """A message of the batch as it will be stored, with the ticket it joined."""

    source: InboundMessage
    workspace_id: int
    ticket: TicketState
    contact_id: int | None
    thread_rule: str
    id: int | None = None


@dataclass(slots=True)
class BatchContext:
    """What the pipeline steps see: the placed messages and every touched ticket."""

    placed: list[PlacedMessage]
    tickets: list[TicketState]


class PipelineStep(Protocol):
    """A stage after threading (triage, routing, SLA). Mutate tickets, append events."""

    name: str

    def apply(self, conn: Connection, batch: BatchContext) -> None: ...


@dataclass(slots=True)
class IngestResult:
    message_ids: list[int | None] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    tickets_created: list[int] = field(default_factory=list)
    tickets_updated: list[int] = field(default_factory=list)
    # Stored messages this batch edited or marked removed (pipeline/message_changes.py).
    changed: list[int] = field(default_factory=list)
    # Tickets opened by a post that arrived before its parent, merged into the ticket
    # of the thread when the parent came: {merged ticket id: surviving ticket id}.
    merged: dict[int, int] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return sum(1 for mid in self.message_ids if mid is not None)

    def skip(self, reason: str) -> None:
        self.message_ids.append(None)
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class Pipeline:
    def __init__(
        self, thread_window: timedelta = timedelta(hours=72), steps: Sequence[PipelineStep] = ()
    ) -> None:
        self.thread_window = thread_window
        self.steps = list(steps)

    def ingest(self, conn: Connection, messages: Sequence[InboundMessage]) -> IngestResult:
        """Store a batch. Safe to call again with the same messages: nothing doubles.

        Edits and removals (``InboundMessage.change``) of stored messages update them
        instead of being dropped as duplicates; a batch without any takes the plain
        path below untouched."""
        if any(m.change is not None for m in messages):
            return self._ingest_with_changes(conn, messages)
        return self._ingest_new(conn, messages)

    def _ingest_with_changes(
        self, conn: Connection, messages: Sequence[InboundMessage]
    ) -> IngestResult:
        plain = [i for i, m in enumerate(messages) if m.change is None]
        changed = [i for i, m in enumerate(messages) if m.change is not None]
        result = self._ingest_new(conn, [messages[i] for i in plain])
        ids: dict[int, int | None] = dict(zip(plain, result.message_ids, strict=True))
        changes = [messages[i] for i in changed]
        keys = {(m.channel_account_id, m.platform_message_id) for m in changes}
        # An edit that overtook its original is stored as the message, edited text and all.
        create = message_changes.to_create(changes, message_changes.load_stored(conn, keys))
        if create:
            created = self._ingest_new(conn, [changes[p] for p in create])
            for p, message_id in zip(create, created.message_ids, strict=True):
                ids[changed[p]] = message_id
            for reason, count in created.skipped.items():
                result.skipped[reason] = result.skipped.get(reason, 0) + count
            result.tickets_created += created.tickets_created
            result.tickets_updated += created.tickets_updated
        outcome = message_changes.apply_changes(conn, changes, set(create))
        for p, message_id in outcome.ids.items():
            ids[changed[p]] = message_id
            if message_id is not None:
                result.changed.append(message_id)
        for reason in outcome.skips.values():
            result.skipped[reason] = result.skipped.get(reason, 0) + 1
        result.message_ids = [ids.get(i) for i in range(len(messages))]
        return result

    def _ingest_new(self, conn: Connection, messages: Sequence[InboundMessage]) -> IngestResult:
        result = IngestResult()
        if not messages:
            return result
        workspace_of = self._workspaces(conn, {m.channel_account_id for m in messages})
        fresh_positions = self._fresh(conn, messages, workspace_of, result)
        fresh = [messages[i] for i in fresh_positions]

        authors: dict[IdentityKey, Author] = {}
        for m in fresh:
            if m.direction == Direction.INBOUND:
                authors.setdefault(self._identity_key(m, workspace_of), m.author)
        contact_of = resolve_contacts(conn, authors) if authors else {}

        index = load_thread_index(conn, fresh, contact_of.values())
        tickets = self._load_tickets(conn, index)
        merges = _Merges()
        placed = self._place(fresh, workspace_of, contact_of, index, tickets, merges)
        if merges.refold:
            merges.apply_refolds(conn, placed, tickets)

        self._write(conn, placed, tickets, result)
        merges.move(conn, tickets, result)
        # Map outcomes back to the caller's order (duplicates and skips stay None).
        in_input_order = placed_in_input_order(placed, fresh)
        ids_by_position = dict(zip(fresh_positions, (p.id for p in in_input_order), strict=True))
        result.message_ids = [ids_by_position.get(i) for i in range(len(messages))]
        return result

    # -- stages ---------------------------------------------------------------------

    @staticmethod
    def _workspaces(conn: Connection, account_ids: set[int]) -> dict[int, int]:
        rows = conn.execute(
            select(_accounts.c.id, _accounts.c.workspace_id).where(_accounts.c.id.in_(account_ids))
        )
        return {r.id: r.workspace_id for r in rows}

    @staticmethod
    def _fresh(
        conn: Connection,
        messages: Sequence[InboundMessage],
        workspace_of: dict[int, int],
        result: IngestResult,
    ) -> list[int]:
        """Positions of messages never stored before (and first of their kind in the batch)."""
        accounts = {m.channel_account_id for m in messages}
        known: set[tuple[int, str]] = set()
        for part in chunks(sorted({m.platform_message_id for m in messages})):
            rows = conn.execute(
                select(_messages.c.channel_account_id, _messages.c.platform_message_id).where(
                    _messages.c.platform_message_id.in_(part)
                )
            )
            known.update(
                (r.channel_account_id, r.platform_message_id)
                for r in rows
                if r.channel_account_id in accounts
            )
        positions: list[int] = []
        for position, m in enumerate(messages):
            key = (m.channel_account_id, m.platform_message_id)
            if m.channel_account_id not in workspace_of:
                result.skip(SkipReason.UNKNOWN_ACCOUNT)
            elif key in known:
                result.skip(SkipReason.DUPLICATE)
            else:
                known.add(key)
                positions.append(position)
        return positions

    @staticmethod
    def _identity_key(m: InboundMessage, workspace_of: dict[int, int]) -> IdentityKey:
        return (workspace_of[m.channel_account_id], str(m.platform), m.author.external_user_id)

    @staticmethod
    def _load_tickets(conn: Connection, index: ThreadIndex) -> dict[int, TicketState]:
        wanted = {
            *index.by_message.values(),
            *index.by_conversation.values(),
            *index.by_child.values(),
            *(entry[0] for entry in index.open_by_contact.values()),
        }
        states: dict[int, TicketState] = {}
        columns = [
            _tickets.c.id,
            _tickets.c.workspace_id,
            _tickets.c.channel_account_id,
            _tickets.c.platform,
            _tickets.c.follow_up_of_id,
            _tickets.c.triage_manual,
            *(_tickets.c[name] for name in MUTABLE_COLUMNS),
        ]
        for part in chunks(sorted(wanted)):
            for row in conn.execute(select(*columns).where(_tickets.c.id.in_(part))):
                states[row.id] = TicketState(**row._asdict())
        return states

    def _place(
        self,
        fresh: list[InboundMessage],
        workspace_of: dict[int, int],
        contact_of: dict[IdentityKey, int],
        index: ThreadIndex,
        tickets: dict[int, TicketState],
        merges: _Merges,
    ) -> list[PlacedMessage]:
        placed: list[PlacedMessage] = []
        next_temp_key = -1
        # Oldest first, so a batch that carries a whole thread builds it in order.
        for m in sorted(fresh, key=lambda item: item.created_at):
            workspace_id = workspace_of[m.channel_account_id]
            inbound = m.direction == Direction.INBOUND
            contact_id = contact_of[self._identity_key(m, workspace_of)] if inbound else None
            found = index.find(m)
            if found is None and contact_id is not None:
                key = index.open_ticket_of(contact_id, m.created_at, self.thread_window)
                found = (key, "open_ticket_of_contact") if key is not None else None
            if found is not None:
                found = (merges.survivor(found[0]), found[1])
            ticket = tickets.get(found[0]) if found else None
            rule = found[1] if found else "new_ticket"
            if ticket is not None and ticket.status == TicketStatus.CLOSED:
                follow_up_of, ticket, rule = ticket.id, None, "follow_up_of_closed"
            else:
                follow_up_of = None
            if ticket is None:
                ticket = TicketState(
                    id=None,
                    workspace_id=workspace_id,
                    channel_account_id=m.channel_account_id,
                    platform=str(m.platform),
                    first_message_at=m.created_at,
                    last_message_at=m.created_at,
                    contact_id=contact_id,
                    subject=subject_from(m.body or describe(m.attachments), m.subject),
                    follow_up_of_id=follow_up_of,
                )
                ticket.events.append(
                    PendingEvent(
                        TicketEventKind.CREATED,
                        m.created_at,
                        "pipeline",
                        {"rule": rule, "follow_up_of": follow_up_of, "channel": str(m.platform)},
                    )
                )
                tickets[next_temp_key] = ticket
                ticket_key = next_temp_key
                next_temp_key -= 1
            else:
                assert found is not None  # an existing ticket is only reached through a match
                ticket_key = found[0]
                if m.created_at < ticket.last_message_at:
                    merges.refold.add(ticket_key)
            merges.link(m, ticket_key, index, tickets)
            apply_message(
                ticket,
                direction=m.direction,
                created_at=m.created_at,
                body=m.body,
                message_ref=f"{m.platform}:{m.platform_message_id}",
                contact_id=contact_id,
                carries_content=any(a.kind != AttachmentKind.STICKER for a in m.attachments),
            )
            index.place(m, ticket_key)
            if contact_id is not None and ticket.status != TicketStatus.SOLVED:
                index.open_by_contact[contact_id] = (ticket_key, ticket.last_message_at)
            placed.append(PlacedMessage(m, workspace_id, ticket, contact_id, rule))
        return placed

    def _write(
        self,
        conn: Connection,
        placed: list[PlacedMessage],
        tickets: dict[int, TicketState],
        result: IngestResult,
    ) -> None:
        touched = [t for t in tickets.values() if t.dirty]
        new_tickets = [t for t in touched if t.is_new]
        now = utcnow()
        if new_tickets:
            rows = [
                {
                    "workspace_id": t.workspace_id,
                    "channel_account_id": t.channel_account_id,
                    "platform": t.platform,
                    "follow_up_of_id": t.follow_up_of_id,
                    "created_at": now,
                    "updated_at": now,
                    **t.column_values(),
                }
                for t in new_tickets
            ]
            ids = insert_with_ids(conn, _tickets, rows)
            for ticket, ticket_id in zip(new_tickets, ids, strict=True):
                ticket.id = ticket_id
            result.tickets_created = list(ids)

        message_rows = [_message_row(p, now) for p in placed]
        if message_rows:
            ids = insert_with_ids(conn, _messages, message_rows)
            for p, message_id in zip(placed, ids, strict=True):
                p.id = message_id
            attachment_rows = [
                {"message_id": p.id, "position": position, **a.as_row()}
                for p in placed
                for position, a in enumerate(p.source.attachments)
            ]
            if attachment_rows:
                conn.execute(insert(_attachments), attachment_rows)

        batch = BatchContext(placed=placed, tickets=touched)
        for step in self.steps:
            step.apply(conn, batch)

        existing = [t for t in touched if not t.is_new]
        if existing:
            conn.execute(
                update(_tickets)
                .where(_tickets.c.id == bindparam("b_id"))
                .values({name: bindparam(name) for name in (*MUTABLE_COLUMNS, "updated_at")}),
                [{"b_id": t.id, "updated_at": now, **t.column_values()} for t in existing],
            )
            result.tickets_updated = [t.id for t in existing if t.id is not None]
        if new_tickets and self.steps:
            # Steps may have changed fields of tickets created in this batch.
            conn.execute(
                update(_tickets)
                .where(_tickets.c.id == bindparam("b_id"))
                .values({name: bindparam(name) for name in MUTABLE_COLUMNS}),
                [{"b_id": t.id, **t.column_values()} for t in new_tickets],
            )
        event_rows = [
            {
                "ticket_id": t.id,
                "workspace_id": t.workspace_id,
                "kind": str(e.kind),
                "actor": e.actor,
                "data": e.data,
                "created_at": e.created_at,
            }
            for t in touched
            for e in t.events
        ]
        if event_rows:
            conn.execute(insert(_events), event_rows)
        for t in touched:
            t.events.clear()
            t.dirty = False


class _Merges:
    """Tickets of one batch to merge and to refold (pipeline/ticket_merge.py)."""

    def __init__(self) -> None:
        self.into: dict[int, int] = {}  # merged ticket key -> surviving ticket key
        self.refold: set[int] = set()

    def survivor(self, key: int) -> int:
        while key in self.into:
            key = self.into[key]
        return key

    def link(
        self,
        m: InboundMessage,
        ticket_key: int,
        index: ThreadIndex,
        tickets: dict[int, TicketState],
    ) -> None:
        """A stored answer to ``m`` opened a ticket of its own before ``m`` came: the
        thread is one, so that ticket joins ``m``'s."""
        child = index.by_child.get((m.channel_account_id, m.platform_message_id))
        if child is None or child < 0:
            return
        child = self.survivor(child)
        early = tickets.get(child)
        if child == ticket_key or early is None or early.status == TicketStatus.CLOSED:
            return
        if tickets[ticket_key].status == TicketStatus.CLOSED:
            return
        self.into[child] = ticket_key
        self.refold.add(ticket_key)
        self.refold.discard(child)
        for mapping in (index.by_message, index.by_conversation, index.by_child):
            for ref, key in mapping.items():
                if key == child:
                    mapping[ref] = ticket_key
        for contact_id, (key, at) in list(index.open_by_contact.items()):
            if key == child:
                index.open_by_contact[contact_id] = (ticket_key, at)
        tickets[ticket_key].events.append(
            PendingEvent(
                TicketEventKind.MERGED,
                m.created_at,
                "pipeline",
                {"merged": child, "reason": "thread_arrived_out_of_order"},
            )
        )

    def apply_refolds(
        self, conn: Connection, placed: list[PlacedMessage], tickets: dict[int, TicketState]
    ) -> None:
        members: dict[int, list[int]] = {key: [key] for key in self.refold}
        for merged in self.into:
            members.setdefault(self.survivor(merged), [self.survivor(merged)]).append(merged)
        stored = [key for keys in members.values() for key in keys if key > 0]
        history = ticket_merge.load_history(conn, stored)
        state_to_key = {id(state): key for key, state in tickets.items()}
        for survivor, keys in members.items():
            items = [item for key in keys for item in history.get(key, [])]
            items += [
                ticket_merge.HistoryItem(p.source.direction, p.source.created_at, p.source.body)
                for p in placed
                if self.survivor(state_to_key[id(p.ticket)]) == survivor
            ]
            ticket_merge.refold(tickets[survivor], items)

    def move(self, conn: Connection, tickets: dict[int, TicketState], result: IngestResult) -> None:
        for merged, into in self.into.items():
            survivor_id = tickets[self.survivor(into)].id
            assert survivor_id is not None and merged > 0
            ticket_merge.move_rows(conn, merged, survivor_id)
            result.merged[merged] = survivor_id
            if merged in result.tickets_updated:
                result.tickets_updated.remove(merged)


def _message_row(p: PlacedMessage, now: Any) -> dict[str, Any]:
    m = p.source
    inbound = m.direction == Direction.INBOUND
    return {
        "ticket_id": p.ticket.id,
        "workspace_id": p.workspace_id,
        "channel_account_id": m.channel_account_id,
        "platform": str(m.platform),
        "direction": str(m.direction),
        "visibility": str(m.visibility),
        "platform_message_id": m.platform_message_id,
        "reply_to_platform_id": m.reply_to_id,
        "conversation_id": m.conversation_id,
        "author_contact_id": p.contact_id,
        "author_user_id": None,
        "author_name": (m.author.display_name or m.author.handle or m.author.external_user_id),
        "subject": m.subject,
        "body": m.body,
        "created_at": m.created_at,
        "received_at": now,
        "delivery_state": "none" if inbound else "sent",
        "delivery_error": None,
        "raw_event_id": m.raw_event_id,
        "meta": _meta(p),
    }


def _meta(p: PlacedMessage) -> dict[str, Any]:
    m = p.source
    meta: dict[str, Any] = {**m.extra, "thread_rule": p.thread_rule}
    if m.references:
        meta["references"] = list(m.references)
    if m.change is not None:
        # Created from an edit whose original never reached us: it was edited, but the
        # earlier text is unknown.
        meta["edited_at"] = message_changes.changed_at(m).isoformat()
    return meta


def placed_in_input_order(
    placed: list[PlacedMessage], fresh: list[InboundMessage]
) -> list[PlacedMessage]:
    by_source = {id(p.source): p for p in placed}
    return [by_source[id(m)] for m in fresh]

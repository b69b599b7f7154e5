"""Inbox writes: canned responses, posting rights, and the approval queue.

A user who may not post on a ticket's channel account drafts instead; the draft waits
for a lead, who approves it (possibly edited: it then goes out through ``reply`` as the
drafting agent's message), or rejects it with a note.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit
from socialdesk.actions.tickets import reply, require_writer, set_status
from socialdesk.domain.enums import Role, TicketStatus, Visibility
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ApprovalDraft,
    CannedResponse,
    Message,
    PostingRight,
    Ticket,
    User,
)

REVIEWER_ROLES = frozenset({Role.ADMIN, Role.LEAD})
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def may_post(session: Session, user: User, channel_account_id: int | None) -> bool:
    """Admins and leads always may; other writers unless a posting right says no."""
    if user.role in REVIEWER_ROLES:
        return True
    if user.role == Role.VIEWER:
        return False
    if channel_account_id is None:
        return True
    right = session.get(PostingRight, (user.id, channel_account_id))
    return right is None or right.can_post


def set_posting_right(
    session: Session, actor: User, user: User, channel_account_id: int, can_post: bool
) -> None:
    if actor.role != Role.ADMIN:
        raise ActionError("only admins change posting rights", 403)
    right = session.get(PostingRight, (user.id, channel_account_id))
    if right is None:
        session.add(
            PostingRight(user_id=user.id, channel_account_id=channel_account_id, can_post=can_post)
        )
    elif right.can_post == can_post:
        return
    else:
        right.can_post = can_post
    audit(
        session,
        actor,
        "posting_right.changed",
        "user",
        user.id,
        None,
        {"channel_account_id": channel_account_id, "can_post": can_post},
    )


def save_canned_response(
    session: Session,
    actor: User,
    workspace_id: int,
    *,
    shortcut: str,
    body: str,
    title: str = "",
    short_body: str | None = None,
    canned_id: int | None = None,
) -> CannedResponse:
    if actor.role not in REVIEWER_ROLES:
        raise ActionError("only admins and leads edit canned responses", 403)
    shortcut = shortcut.strip().lower().lstrip("/")
    if not _SHORTCUT.match(shortcut):
        raise ActionError("a shortcut is 1-40 lower-case letters, digits, - or _", 422)
    if not body.strip():
        raise ActionError("a canned response needs a body", 422)
    clash = session.scalar(
        select(CannedResponse).where(
            CannedResponse.workspace_id == workspace_id, CannedResponse.shortcut == shortcut
        )
    )
    if clash is not None and clash.id != canned_id:
        raise ActionError(f"/{shortcut} already exists", 409)
    if canned_id is None:
        canned = CannedResponse(workspace_id=workspace_id, shortcut=shortcut, body="")
        session.add(canned)
    else:
        found = session.get(CannedResponse, canned_id)
        if found is None or found.workspace_id != workspace_id:
            raise ActionError(f"canned response {canned_id} not found", 404)
        canned = found
    canned.shortcut = shortcut
    canned.title = title.strip() or shortcut
    canned.body = body.strip()
    canned.short_body = (short_body or "").strip() or None
    canned.created_at = canned.created_at or utcnow()
    session.flush()
    audit(
        session,
        actor,
        "canned_response.saved",
        "canned_response",
        canned.id,
        workspace_id,
        {"shortcut": shortcut},
    )
    return canned


def delete_canned_response(session: Session, actor: User, canned: CannedResponse) -> None:
    if actor.role not in REVIEWER_ROLES:
        raise ActionError("only admins and leads edit canned responses", 403)
    audit(
        session,
        actor,
        "canned_response.deleted",
        "canned_response",
        canned.id,
        canned.workspace_id,
        {"shortcut": canned.shortcut},
    )
    session.delete(canned)


def submit_for_approval(
    session: Session,
    ticket: Ticket,
    actor: User,
    body: str,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    solve_after: bool = False,
) -> ApprovalDraft:
    require_writer(actor)
    body = body.strip()
    if not body:
        raise ActionError("a reply needs a body")
    draft = ApprovalDraft(
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.id,
        author_user_id=actor.id,
        body=body,
        visibility=str(visibility),
        solve_after=solve_after,
        state="pending",
        created_at=utcnow(),
    )
    session.add(draft)
    session.flush()
    audit(
        session,
        actor,
        "approval.submitted",
        "approval_draft",
        draft.id,
        ticket.workspace_id,
        {"ticket_id": ticket.id, "visibility": str(visibility)},
    )
    _announce(session, draft)
    return draft


def _review(session: Session, draft: ApprovalDraft, reviewer: User) -> Ticket:
    if reviewer.role not in REVIEWER_ROLES:
        raise ActionError("only leads and admins review drafts", 403)
    if draft.state != "pending":
        raise ActionError(f"this draft was already {draft.state}", 409)
    ticket = session.get(Ticket, draft.ticket_id)
    if ticket is None:
        raise ActionError("the draft's ticket no longer exists", 404)
    draft.reviewer_user_id = reviewer.id
    draft.reviewed_at = utcnow()
    return ticket


def approve_draft(
    session: Session, draft: ApprovalDraft, reviewer: User, *, body: str | None = None
) -> Message:
    """Send the draft (or the reviewer's edit of it) as the drafting agent's reply."""
    ticket = _review(session, draft, reviewer)
    edited = body is not None and body.strip() != draft.body
    if body is not None and body.strip():
        draft.body = body.strip()
    author = session.get(User, draft.author_user_id) if draft.author_user_id else None
    if author is None or not author.is_active:
        author = reviewer
    message = reply(
        session,
        ticket,
        author,
        draft.body,
        visibility=Visibility(draft.visibility),
        status_after=TicketStatus.PENDING,
    )
    message.meta = {**message.meta, "approved_by": reviewer.id, "draft_id": draft.id}
    if draft.solve_after:
        set_status(session, ticket, reviewer, TicketStatus.SOLVED)
    draft.state = "approved"
    draft.message_id = message.id
    audit(
        session,
        reviewer,
        "approval.approved",
        "approval_draft",
        draft.id,
        draft.workspace_id,
        {"ticket_id": ticket.id, "message_id": message.id, "edited": edited},
    )
    _announce(session, draft)
    return message


def reject_draft(session: Session, draft: ApprovalDraft, reviewer: User, note: str = "") -> None:
    ticket = _review(session, draft, reviewer)
    draft.state = "rejected"
    draft.review_note = note.strip() or None
    audit(
        session,
        reviewer,
        "approval.rejected",
        "approval_draft",
        draft.id,
        draft.workspace_id,
        {"ticket_id": ticket.id, "note": draft.review_note},
    )
    _announce(session, draft)


def _announce(session: Session, draft: ApprovalDraft) -> None:
    queue_live_event(
        session,
        LiveEvent(
            "approval.changed",
            draft.workspace_id,
            {"ticket_id": draft.ticket_id, "draft_id": draft.id, "state": draft.state},
        ),
    )

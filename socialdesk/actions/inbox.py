"""Inbox writes: the one door every agent reply goes through, canned responses,
posting rights, and the approval queue.

``send_reply`` holds the rules a reply must pass, whichever door it came through (API,
conversation page): a user who may not post on the ticket's channel account drafts
instead; a second public reply within ``SECOND_REPLY_WINDOW`` needs ``confirm``, and so
does a public reply that would publish personal data (an e-mail address, a phone, card
or order number, a street address: ``domain/personal_data.py``). The
draft waits for a lead, who approves it (possibly edited: it then goes out through
``reply`` as the drafting agent's message; a public reply sent since the draft was
written asks the lead to confirm), or rejects it with a note.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from socialdesk.actions.email_route import EmailRoute
from socialdesk.actions.messaging_window import check_reply_rules
from socialdesk.actions.recording import ActionError, NeedsConfirmation, audit, require_role
from socialdesk.actions.tickets import reply, require_writer, set_status
from socialdesk.actions.uploads import (
    ImagesRefused,
    check_images,
    draft_upload_rows,
    hold_for_draft,
    release_draft,
    uploads_for_reply,
)
from socialdesk.channels.networks import answers_by_email
from socialdesk.delivery.enqueue import reply_kind
from socialdesk.domain.enums import (
    DeliveryState,
    Direction,
    Platform,
    Role,
    TicketStatus,
    Visibility,
)
from socialdesk.domain.personal_data import describe, find_personal_data
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    ApprovalDraft,
    CannedResponse,
    ChannelAccount,
    Message,
    PostingRight,
    Ticket,
    Upload,
    User,
)

REVIEWER_ROLES = frozenset({Role.ADMIN, Role.LEAD})
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# A second public reply to the same ticket within this window asks for confirmation.
SECOND_REPLY_WINDOW = timedelta(minutes=2)
SECOND_REPLY = "second_reply"
PERSONAL_DATA = "personal_data"
# Networks whose every reply is private already: nothing a reply says there is public.
ANSWERED_SINCE_DRAFT = "answered_since_draft"
# A scheduled (or cancelled) reply is not out there yet: it answers nobody.
_NOT_OUT = (str(DeliveryState.SCHEDULED), str(DeliveryState.CANCELLED))


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


def _public_replies(session: Session, ticket_id: int, since: datetime, limit: int) -> list[Message]:
    """Public replies on the ticket stored since ``since`` (by anyone), newest first."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.ticket_id == ticket_id,
                Message.direction == str(Direction.OUTBOUND),
                Message.visibility == str(Visibility.PUBLIC),
                Message.created_at >= since,
                Message.delivery_state.not_in(_NOT_OUT),
            )
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )


def recent_public_reply(session: Session, ticket_id: int, client_key: str | None) -> Message | None:
    """A public reply stored on the ticket (by anyone) within the window, other than
    the one this very request already stored (a retried submit carries its key)."""
    for message in _public_replies(session, ticket_id, utcnow() - SECOND_REPLY_WINDOW, 5):
        if not client_key or message.meta.get("client_key") != client_key:
            return message
    return None


def answered_since(session: Session, draft: ApprovalDraft) -> list[Message]:
    """Public replies sent on the draft's ticket after the draft was written, oldest
    first (none matter for a private draft: it answers nobody in public)."""
    if draft.visibility != Visibility.PUBLIC:
        return []
    found = _public_replies(session, draft.ticket_id, draft.created_at, 20)
    return [m for m in reversed(found) if m.id != draft.message_id]


def _brief(message: Message) -> dict[str, object]:
    return {
        "id": message.id,
        "author_name": message.author_name,
        "body": message.body[:500],
        "created_at": message.created_at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What a reply became: a message on its way out, or a draft awaiting approval."""

    message: Message | None = None
    draft: ApprovalDraft | None = None


def send_reply(
    session: Session,
    ticket: Ticket,
    actor: User,
    body: str,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    status_after: TicketStatus | None = TicketStatus.PENDING,
    solve: bool = False,
    client_key: str | None = None,
    send_at: datetime | None = None,
    via_email: EmailRoute | None = None,
    confirm: bool = False,
    template: str | None = None,
    canned_ids: Collection[int] = (),
    attachment_ids: Collection[int] = (),
    reply_to_message_id: int | None = None,
) -> ReplyOutcome:
    """An agent's reply through any door, with its rules.

    Without posting rights on the account it goes out through, the reply becomes an
    approval draft (it cannot be scheduled). A public reply sent now while another
    public reply went out on the ticket within ``SECOND_REPLY_WINDOW`` raises
    ``NeedsConfirmation`` (code ``second_reply``) unless ``confirm``. ``solve``:
    solved after the reply (or after approval). The network's rules come first: outside
    its messaging window (WhatsApp's 24 hours) only an approved ``template`` may go out
    (``OutsideMessagingWindow``, code ``outside_window``). ``canned_ids``: the canned
    answers the agent inserted, each counted once the reply is sent or awaits approval.
    ``attachment_ids``: the agent's uploads to attach, refused (422
    ``images_not_allowed``) where the network takes no images on this kind of reply; a
    draft holds them until a lead approves (sent, checked again) or rejects it (let go).
    """
    require_writer(actor)
    if not body.strip():
        raise ActionError("a reply needs a body")
    used = _canned_of(session, ticket.workspace_id, canned_ids)
    account_id = via_email.account_id if via_email else ticket.channel_account_id
    body, chosen_template = check_reply_rules(
        session, ticket, account_id, body, visibility=visibility, template=template,
        by_email=via_email is not None,
    )  # fmt: skip
    allowed = may_post(session, actor, account_id)
    platform = str(Platform.EMAIL) if via_email is not None else ticket.platform
    kind = reply_kind(platform, str(Visibility.PRIVATE if via_email else visibility))
    uploads = uploads_for_reply(
        session, actor, ticket.workspace_id, attachment_ids, platform, kind, body
    )
    if uploads and chosen_template is not None:
        # Outside the messaging window only the template's text may go out.
        raise ImagesRefused("an approved template carries text only: it cannot take images")
    if chosen_template is not None and not allowed:
        raise ActionError("a template reply cannot wait for approval: ask a lead to send it", 422)
    if send_at is not None and not allowed:
        raise ActionError("replies that need a lead's approval cannot be scheduled", 422)
    public = via_email is None and visibility == Visibility.PUBLIC
    if public and not confirm and not answers_by_email(ticket.platform):
        _check_personal_data(session, ticket, body, client_key, send_at)
    if public and send_at is None and not confirm:
        earlier = recent_public_reply(session, ticket.id, client_key)
        if earlier is not None:
            raise NeedsConfirmation(
                f"{earlier.author_name or 'someone'} replied in public on this ticket "
                f"{_ago(earlier.created_at)}; send again with confirm to post a second reply",
                SECOND_REPLY,
                {"earlier": _brief(earlier)},
            )
    if not allowed:
        draft = submit_for_approval(
            session, ticket, actor, body, visibility=visibility,
            solve_after=solve or status_after == TicketStatus.SOLVED, uploads=uploads,
        )  # fmt: skip
        _count_use(session, used)
        return ReplyOutcome(draft=draft)
    message = reply(
        session, ticket, actor, body, visibility=visibility, status_after=status_after,
        client_key=client_key, send_at=send_at, via_email=via_email, template=chosen_template,
        uploads=uploads,
        reply_to_message_id=reply_to_message_id,
    )  # fmt: skip
    if solve and send_at is None:
        set_status(session, ticket, actor, TicketStatus.SOLVED)
    _count_use(session, used)
    return ReplyOutcome(message=message)


def _canned_of(
    session: Session, workspace_id: int, canned_ids: Collection[int]
) -> list[CannedResponse]:
    """The canned answers a reply says it used: each of the ticket's workspace, once."""
    wanted = set(canned_ids)
    if not wanted:
        return []
    found = list(
        session.scalars(
            select(CannedResponse).where(
                CannedResponse.id.in_(wanted), CannedResponse.workspace_id == workspace_id
            )
        )
    )
    missing = wanted - {c.id for c in found}
    if missing:
        raise ActionError(f"canned response {min(missing)} not found in this workspace", 422)
    return found


def _count_use(session: Session, used: list[CannedResponse]) -> None:
    if not used:
        return
    # Counted in SQL: two agents sending at once both count.
    session.execute(
        update(CannedResponse)
        .where(CannedResponse.id.in_([c.id for c in used]))
        .values(usage_count=CannedResponse.usage_count + 1, last_used_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )


def _check_personal_data(
    session: Session, ticket: Ticket, body: str, client_key: str | None, send_at: datetime | None
) -> None:
    """Refuse (until confirmed) a public reply that would publish personal data. One
    confirmation covers the second-reply guard too, so it is named here when it applies:
    the agent sees both before saying yes once."""
    found = find_personal_data(body)
    if not found:
        return
    details: dict[str, object] = {
        "found": [{"kind": str(f.kind), "label": f.label, "text": f.text} for f in found]
    }
    reason = (
        f"this public reply contains {describe(found)} "
        f"({', '.join(dict.fromkeys(f.text for f in found))}); "
        "send it privately (a direct message), or again with confirm to post it in public"
    )
    earlier = recent_public_reply(session, ticket.id, client_key) if send_at is None else None
    if earlier is not None:
        details["earlier"] = _brief(earlier)
        reason += (
            f"; {earlier.author_name or 'someone'} also replied in public "
            f"{_ago(earlier.created_at)}"
        )
    raise NeedsConfirmation(reason, PERSONAL_DATA, details)


def _ago(moment: datetime) -> str:
    seconds = max(0, int((utcnow() - moment).total_seconds()))
    return f"{seconds} seconds ago" if seconds < 120 else f"{seconds // 60} minutes ago"


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
    account = session.get(ChannelAccount, channel_account_id)
    if account is None:
        raise ActionError(f"channel account {channel_account_id} not found", 404)
    audit(
        session,
        actor,
        "posting_right.changed",
        "user",
        user.id,
        account.workspace_id,
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
    category: str = "",
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
    canned.category = " ".join(category.split())[:80]
    canned.created_at = canned.created_at or utcnow()
    session.flush()
    audit(
        session,
        actor,
        "canned_response.saved",
        "canned_response",
        canned.id,
        workspace_id,
        {"shortcut": shortcut, "category": canned.category},
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
    uploads: Sequence[Upload] = (),
) -> ApprovalDraft:
    """``uploads``: images already checked against the network (``uploads_for_reply``),
    held by the draft until it is reviewed."""
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
    hold_for_draft(session, draft.id, uploads)
    details: dict[str, object] = {"ticket_id": ticket.id, "visibility": str(visibility)}
    if uploads:
        details["upload_ids"] = [u.id for u in uploads]
    audit(session, actor, "approval.submitted", "approval_draft", draft.id,
          ticket.workspace_id, details)  # fmt: skip
    _announce(session, draft)
    return draft


def _review(session: Session, draft: ApprovalDraft, reviewer: User) -> Ticket:
    require_role(reviewer, REVIEWER_ROLES, "only leads and admins review drafts")
    if draft.state != "pending":
        raise ActionError(f"this draft was already {draft.state}", 409)
    ticket = session.get(Ticket, draft.ticket_id)
    if ticket is None:
        raise ActionError("the draft's ticket no longer exists", 404)
    return ticket


def _mark_reviewed(draft: ApprovalDraft, reviewer: User) -> None:
    draft.reviewer_user_id = reviewer.id
    draft.reviewed_at = utcnow()


def approve_draft(
    session: Session,
    draft: ApprovalDraft,
    reviewer: User,
    *,
    body: str | None = None,
    confirm: bool = False,
) -> Message:
    """Send the draft (or the reviewer's edit of it) as the drafting agent's reply.

    The thread is checked again now: a public reply sent since the draft was written
    raises ``NeedsConfirmation`` (code ``answered_since_draft``, the replies in its
    details) unless ``confirm``, so a colleague's answer is not followed by a second."""
    ticket = _review(session, draft, reviewer)
    if not confirm:
        since = answered_since(session, draft)
        if since:
            raise NeedsConfirmation(
                f"{since[-1].author_name or 'someone'} already replied in public since this "
                "draft was written; approve again with confirm to send it as well",
                ANSWERED_SINCE_DRAFT,
                {"replies": [_brief(m) for m in since]},
            )
    _mark_reviewed(draft, reviewer)
    edited = body is not None and body.strip() != draft.body
    if body is not None and body.strip():
        draft.body = body.strip()
    author = session.get(User, draft.author_user_id) if draft.author_user_id else None
    if author is None or not author.is_active:
        author = reviewer
    # The images the draft holds, checked again: the network's rule applies at send, and
    # the lead's edit may have made a caption too long.
    uploads = draft_upload_rows(session, [draft.id]).get(draft.id, [])
    check_images(
        uploads, ticket.platform, reply_kind(ticket.platform, draft.visibility), draft.body
    )
    message = reply(
        session,
        ticket,
        author,
        draft.body,
        visibility=Visibility(draft.visibility),
        status_after=TicketStatus.PENDING,
        uploads=uploads,
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
    _mark_reviewed(draft, reviewer)
    draft.state = "rejected"
    draft.review_note = note.strip() or None
    details: dict[str, object] = {"ticket_id": ticket.id, "note": draft.review_note}
    released = release_draft(session, draft.id)
    if released:
        details["released_upload_ids"] = released
    audit(session, reviewer, "approval.rejected", "approval_draft", draft.id,
          draft.workspace_id, details)  # fmt: skip
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

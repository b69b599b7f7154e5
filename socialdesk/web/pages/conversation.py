"""The conversation page: the whole thread, the customer panel, ticket controls, the
composer (replies, notes) and collision warnings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from socialdesk.actions import email_route as email_routes
from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions import peer_answers as peer_answer_actions
from socialdesk.actions import presence
from socialdesk.actions import private as private_actions
from socialdesk.actions import retries as retry_actions
from socialdesk.actions import tickets as actions
from socialdesk.actions.email_settings import email_settings
from socialdesk.actions.recording import ActionError, NeedsConfirmation
from socialdesk.actions.uploads import draft_upload_rows
from socialdesk.channels.base import ReplyKind
from socialdesk.channels.descriptor import Absent
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import (
    Direction,
    Priority,
    TicketStatus,
    Visibility,
)
from socialdesk.domain.time_zones import wall_time_to_utc
from socialdesk.radar import views as radar_views
from socialdesk.sla import views as sla_views
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    ApprovalDraft,
    ChannelAccount,
    Contact,
    FollowUp,
    Message,
    Ticket,
    User,
    Workspace,
)
from socialdesk.store.repos.tickets import identities_of, messages_of, tags_for
from socialdesk.triage.trend import sparkline, trend_of
from socialdesk.web.api.params import IdPath, parse_id
from socialdesk.web.pages import composer
from socialdesk.web.pages.common import (
    PageError,
    action_error,
    is_htmx,
    load_ticket,
    render,
    require_writer,
)
from socialdesk.web.pages.inbox import forget_counts, team_members
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
router.include_router(composer.router)
# "New" is listed only while the ticket is new (nothing sets it back): saving the form
# then keeps it new instead of quietly opening it.
STATUSES = list(TicketStatus)
# The customer panel's sentiment sparkline, in SVG user units (CSS pixels).
SPARK_WIDTH, SPARK_HEIGHT = 80, 20


def _actor(session: Session, user: WebUser) -> User:
    actor = session.get(User, user.id)
    assert actor is not None
    return actor


def thread_context(session: Session, user: WebUser, ticket: Ticket) -> dict[str, Any]:
    drafts = list(
        session.scalars(
            select(ApprovalDraft)
            .where(ApprovalDraft.ticket_id == ticket.id, ApprovalDraft.state != "approved")
            .order_by(ApprovalDraft.id)
        )
    )
    messages = messages_of(session, ticket.id)
    scheduled = {
        m.id: datetime.fromisoformat(str(m.meta["scheduled_for"]))
        for m in messages
        if m.meta.get("scheduled_for")
    }
    # The workspace's e-mail setting is read only when a message has a signature to show.
    signed = any(m.meta.get("signature") for m in messages)
    workspace = session.get(Workspace, ticket.workspace_id) if signed else None
    signatures = email_settings(workspace)["signatures"]
    return {
        "ticket": ticket,
        "messages": messages,
        "drafts": drafts,
        "draft_images": draft_upload_rows(session, [d.id for d in drafts if d.state == "pending"]),
        "scheduled_for": scheduled,
        "signatures_kept": signatures == "kept",
        # Fans' replies that answered the customer, by message ("answered by @fan").
        "peer_answers": {
            a.message_id: a for a in peer_answer_actions.of_ticket(session, ticket.id)
        },
    }


def head_context(session: Session, ticket: Ticket) -> dict[str, Any]:
    """What the ticket header shows (status, channel account, SLA due, promises due)."""
    return {
        "ticket": ticket,
        "contact": session.get(Contact, ticket.contact_id) if ticket.contact_id else None,
        "account": (
            session.get(ChannelAccount, ticket.channel_account_id)
            if ticket.channel_account_id
            else None
        ),
        "promises_due": _promises_due(session, ticket),
        **_sla_context(session, ticket),
    }


def page_context(session: Session, user: WebUser, ticket: Ticket) -> dict[str, Any]:
    head = head_context(session, ticket)
    contact = head["contact"]
    identities = identities_of(session, contact.id) if contact else []
    other_tickets = (
        list(
            session.execute(
                select(
                    Ticket.id,
                    Ticket.subject,
                    Ticket.status,
                    Ticket.platform,
                    Ticket.sentiment_label,
                )
                .where(Ticket.contact_id == contact.id, Ticket.id != ticket.id)
                .order_by(Ticket.last_message_at.desc())
                .limit(10)
            )
        )
        if contact
        else []
    )
    account = head["account"]
    can_post = (
        user.role in ("admin", "lead")
        or inbox_actions.may_post(session, _actor(session, user), ticket.channel_account_id)
        if user.role != "viewer"
        else False
    )
    # From the rows already loaded: no query unless the customer has an address.
    address = email_routes.email_address_of(identities, contact.email if contact else None)
    route = email_routes.email_route_to(session, ticket, address)
    thread = thread_context(session, user, ticket)
    dm_possible = _replies_by_dm(ticket.platform)
    trend = trend_of([m.triage for m in thread["messages"] if m.direction == Direction.INBOUND])
    return {
        **thread,
        # From the messages already loaded: no query of its own.
        "trend": trend,
        "sparkline": sparkline(trend.scores, SPARK_WIDTH, SPARK_HEIGHT),
        "spark_size": (SPARK_WIDTH, SPARK_HEIGHT),
        # Open ones get the banner; one query (the page's count is pinned).
        "incidents": [
            i for i in radar_views.incidents_of_ticket(session, ticket.id) if i.state == "open"
        ],
        **_window_context(ticket, route),
        # The composer answers where the customer last wrote: a DM by DM.
        "default_kind": "dm"
        if dm_possible and _last_wrote_privately(thread["messages"])
        else "public",
        **_template_context(ticket, account),
        "email_route": route,
        "contact": contact,
        "identities": identities,
        "other_tickets": other_tickets,
        "account": account,
        "tags": tags_for(session, [ticket.id])[ticket.id],
        "members": team_members(session, user),
        "statuses": STATUSES,
        "priorities": list(Priority),
        "can_post": can_post,
        "images_hint": composer.images_hint(ticket.platform, route),
        "can_write": user.role != "viewer",
        # E-mail and web-form tickets are already private: no DM to move to.
        "dm_possible": dm_possible,
        "direct_dm": private_actions.can_open_dm(ticket.platform),
        "default_invite": private_actions.default_invite(ticket.platform),
        "others": presence.others(session, ticket.id, user.id),
        "client_key": uuid.uuid4().hex,
        "nav": "inbox",
        **head,
    }


def _last_wrote_privately(messages: list[Message]) -> bool:
    """Whether the customer's latest message (by when it was written) was private."""
    inbound = [m for m in messages if m.direction == Direction.INBOUND]
    if not inbound:
        return False
    latest = max(inbound, key=lambda m: (m.created_at, m.id))
    return latest.visibility == Visibility.PRIVATE


def _promises_due(session: Session, ticket: Ticket) -> list[FollowUp]:
    """Promises made on this ticket that are past due and not yet kept by a reply."""
    return list(
        session.scalars(
            select(FollowUp)
            .where(
                FollowUp.ticket_id == ticket.id,
                FollowUp.status == "open",
                or_(FollowUp.overdue_at.is_not(None), FollowUp.due_at <= utcnow()),
            )
            .order_by(FollowUp.due_at)
        )
    )


def _window_context(ticket: Ticket, route: actions.EmailRoute | None) -> dict[str, Any]:
    """The network's messaging window as the composer shows it (its descriptor's
    ``composer_hint``: Meta's 24 hours on Messenger / Instagram), and the e-mail mode as
    the alternative when the customer has an address."""
    descriptor = find_descriptor(ticket.platform)
    if descriptor is None or isinstance(descriptor.messaging_window, Absent):
        return {"window_hint": "", "prefer_email": False}
    hint = descriptor.messaging_window.composer_hint(
        descriptor.platform,
        ticket.last_inbound_at,
        utcnow(),
        customer_email=route.address if route else None,
    )
    if hint is None:
        return {"window_hint": "", "prefer_email": False}
    return {"window_hint": hint.text, "prefer_email": hint.prefer_email}


def _replies_by_dm(platform: str | None) -> bool:
    """Whether the network's replies can be DMs (not e-mail-only networks: e-mail and
    web-form tickets are already private)."""
    descriptor = find_descriptor(platform)
    return descriptor is not None and ReplyKind.DIRECT_MESSAGE in descriptor.reply_kinds


def _template_context(ticket: Ticket, account: ChannelAccount | None) -> dict[str, Any]:
    """A network with approved templates (WhatsApp): the account's templates to choose
    from, and the window's reason when free text can no longer go out."""
    descriptor = find_descriptor(ticket.platform)
    dm_only = descriptor is not None and descriptor.reply_kinds == (ReplyKind.DIRECT_MESSAGE,)
    if descriptor is None or account is None or isinstance(descriptor.templates, Absent):
        return {"templates": [], "dm_only": dm_only}
    context: dict[str, Any] = {
        "templates": descriptor.templates.names(account.settings),
        "dm_only": dm_only,
    }
    if not isinstance(descriptor.messaging_window, Absent):
        reason = descriptor.messaging_window.refuse_reply(
            ticket.last_inbound_at, utcnow(), visibility=Visibility.PRIVATE, template=None
        )
        if reason:
            context["window_hint"] = reason[0].upper() + reason[1:] + "."
    return context


def _sla_context(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The next due time and the breached / at-risk mark (one query over the clocks)."""
    now = utcnow()
    running = sla_views.risk_of(session, [ticket.id], now).get(ticket.id)
    mark = sla_views.badge_mark(ticket.status, running, ticket.sla_breached)
    due = sla_views.next_due(
        ticket.first_response_due_at, ticket.next_response_due_at, ticket.resolution_due_at
    )
    return {"sla_due": sla_views.due_label(due, now), "sla_mark": mark}


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, ticket_id: IdPath, user: PageUser) -> Response:
    database: Database = request.app.state.db
    with database.session() as session:
        ticket = load_ticket(session, user, ticket_id)
        context = page_context(session, user, ticket)
    presence.touch(database, ticket.workspace_id, ticket_id, user.id, user.label, typing=False)
    return render(request, "conversation.html", user, **context)


@router.get("/tickets/{ticket_id}/head", response_class=HTMLResponse)
def head(request: Request, ticket_id: IdPath, user: PageUser) -> Response:
    """The header alone, fetched again whenever the ticket changes (status, SLA due)."""
    database: Database = request.app.state.db
    with database.session() as session:
        context = head_context(session, load_ticket(session, user, ticket_id))
    return render(request, "ticket_head.html", user, **context)


@router.get("/tickets/{ticket_id}/thread", response_class=HTMLResponse)
def thread(request: Request, ticket_id: IdPath, user: PageUser) -> Response:
    database: Database = request.app.state.db
    with database.session() as session:
        ticket = load_ticket(session, user, ticket_id)
        context = thread_context(session, user, ticket)
    return render(request, "thread.html", user, **context)


def _done(request: Request, ticket_id: int, user: WebUser, notice: str = "") -> Response:
    """After a write: HTMX gets the fresh thread, a plain form post a redirect."""
    forget_counts()
    if not is_htmx(request):
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    database: Database = request.app.state.db
    with database.session() as session:
        context = thread_context(session, user, load_ticket(session, user, ticket_id))
    response = render(request, "thread.html", user, notice=notice, **context)
    response.headers["HX-Trigger"] = "sd:sent"
    return response


@router.post("/tickets/{ticket_id}/reply")
def reply(
    request: Request,
    ticket_id: IdPath,
    user: FormUser,
    body: Annotated[str, Form(max_length=20_000)],
    kind: Annotated[Literal["public", "dm", "email"], Form()] = "public",
    solve: Annotated[str, Form()] = "",
    client_key: Annotated[str | None, Form(max_length=64)] = None,
    confirm: Annotated[str, Form()] = "",
    schedule: Annotated[str, Form()] = "",
    send_at: Annotated[str, Form(max_length=64)] = "",
    private: Annotated[str, Form()] = "",
    template: Annotated[str, Form(max_length=512)] = "",
    canned_ids: Annotated[str, Form(max_length=200)] = "",
    # No file chosen: a browser sends an empty part, which may arrive as an empty string.
    images: Annotated[list[UploadFile | str], File()] = [],  # noqa: B006 (FastAPI copies it)
    # The images' descriptions (alt text), one line per chosen file, in order.
    image_alts: Annotated[str, Form(max_length=40_000)] = "",
    # Uploads kept when a confirmation was asked ("Send anyway" sends the same images).
    upload_ids: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Send now, or with ``schedule=1`` at ``send_at`` (ISO 8601 with zone, or a wall
    time in the agent's chosen zone: ``_parse_send_at``); ``kind=email`` replies by e-mail.
    ``private=1`` (the personal-data confirm's "Move to private") sends a public reply
    as a direct message instead; ``template``: an approved template of the account
    (WhatsApp). ``upload_ids``: the images a confirmation form carries, kept when it was
    asked; the files a script-driven composer sends again with it are those same images."""
    require_writer(user)
    if private and kind == "public":
        kind = "dm"
    database: Database = request.app.state.db
    when = _parse_send_at(send_at, user) if schedule else None
    files = [i for i in images if not isinstance(i, str) and i.filename]
    carried = composer.carried_upload_ids(upload_ids)
    try:
        with database.write() as session:
            ticket = load_ticket(session, user, ticket_id)
            route = email_routes.email_route(session, ticket) if kind == "email" else None
            if kind == "email" and route is None:
                raise PageError(
                    422, "This customer has no e-mail address, or no e-mail account is set up."
                )
            actor = _actor(session, user)
            attached = carried or composer.upload_images(
                session, request.app.state.attachment_storage, actor, ticket.workspace_id,
                files, request.app.state.settings.reply_upload_max_bytes, image_alts,
            )  # fmt: skip
            outcome = inbox_actions.send_reply(
                session, ticket, actor, body,
                visibility=composer.visibility_of(kind), solve=bool(solve),
                client_key=client_key, send_at=when, via_email=route, confirm=bool(confirm),
                template=template or None, canned_ids=_canned_ids(canned_ids),
                attachment_ids=attached,
            )  # fmt: skip
    except NeedsConfirmation as exc:
        # Nothing was written: ask, with the same form and a "Send anyway" button. The
        # chosen images are kept now, so the answer sends these very uploads.
        kept = carried or composer.keep_images(request, user, ticket_id, files, image_alts)
        upload_ids = ",".join(str(i) for i in kept)
        if exc.code == inbox_actions.PERSONAL_DATA:
            with database.session() as session:
                ticket = load_ticket(session, user, ticket_id)
                session.expunge_all()
            return _confirm_reply(
                request, user, ticket, {"found": (exc.details or {}).get("found", [])},
                body=body, kind=kind, solve=solve, client_key=client_key,
                schedule=schedule, send_at=send_at, canned_ids=canned_ids, template=template,
                upload_ids=upload_ids, image_count=len(kept),
            )  # fmt: skip
        with database.session() as session:
            ticket = load_ticket(session, user, ticket_id)
            earlier = inbox_actions.recent_public_reply(session, ticket.id, client_key)
            if earlier is None:  # gone in the meantime (cancelled): just ask again
                raise action_error(exc) from exc
            session.expunge_all()
        return _confirm_second_reply(
            request, user, ticket, earlier, body=body, kind=kind, solve=solve,
            client_key=client_key, canned_ids=canned_ids, template=template,
            upload_ids=upload_ids, image_count=len(kept),
        )  # fmt: skip
    except ActionError as exc:
        raise action_error(exc) from exc
    if outcome.draft is not None:
        notice = "You may not post on this account: your reply went to a lead for approval."
    else:
        notice = "Reply scheduled." if when is not None else ""
    presence.touch(database, ticket.workspace_id, ticket_id, user.id, user.label, typing=False)
    return _done(request, ticket_id, user, notice)


def _canned_ids(value: str) -> list[int]:
    """The composer's comma-separated ids of the canned answers inserted in the reply."""
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise PageError(422, "The canned answers used are a list of numbers.") from None


def _parse_send_at(value: str, user: WebUser) -> datetime:
    """The composer's "Send at": ISO 8601 with a zone (the browser converted it), or a
    wall-clock time read in the zone the agent chose in their profile."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise PageError(422, "Pick a date and time to schedule the reply.") from exc
    if moment.tzinfo is None:
        if not user.time_zone_chosen:
            raise PageError(422, "The scheduled time needs a time zone; reload the page.")
        moment = wall_time_to_utc(moment, user.time_zone)
    return moment


def _scheduled_message(session: Session, ticket: Ticket, message_id: int) -> Message:
    """A message of this ticket (a scheduled or a failed reply) or a 404."""
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise PageError(404, "That message is not on this ticket.")
    return message


@router.post("/tickets/{ticket_id}/messages/{message_id}/cancel")
def cancel_scheduled(
    request: Request, ticket_id: IdPath, message_id: IdPath, user: FormUser
) -> Response:
    """Cancel a scheduled reply: its outbox row goes, so it can never be sent."""
    require_writer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        ticket = load_ticket(session, user, ticket_id)
        message = _scheduled_message(session, ticket, message_id)
        try:
            actions.cancel_scheduled_reply(session, ticket, _actor(session, user), message)
        except ActionError as exc:
            raise action_error(exc) from exc
    return _done(request, ticket_id, user, "Scheduled reply cancelled; it will not be sent.")


@router.post("/tickets/{ticket_id}/messages/{message_id}/retry")
def retry_failed(
    request: Request, ticket_id: IdPath, message_id: IdPath, user: FormUser
) -> Response:
    """Send a failed reply again."""
    require_writer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        ticket = load_ticket(session, user, ticket_id)
        message = _scheduled_message(session, ticket, message_id)
        try:
            retry_actions.retry_failed_reply(session, ticket, _actor(session, user), message)
        except ActionError as exc:
            raise action_error(exc) from exc
    worker = getattr(request.app.state, "delivery_worker", None)
    if worker is not None:
        worker.kick()
    return _done(request, ticket_id, user, "Sending the reply again.")


@router.post("/tickets/{ticket_id}/messages/{message_id}/edit")
def edit_scheduled(
    request: Request,
    ticket_id: IdPath,
    message_id: IdPath,
    user: FormUser,
    body: Annotated[str, Form(max_length=20_000)],
) -> Response:
    require_writer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        ticket = load_ticket(session, user, ticket_id)
        message = _scheduled_message(session, ticket, message_id)
        try:
            actions.edit_scheduled_reply(session, ticket, _actor(session, user), message, body)
        except ActionError as exc:
            raise action_error(exc) from exc
    return _done(request, ticket_id, user, "Scheduled reply updated.")


def _confirm_second_reply(
    request: Request,
    user: WebUser,
    ticket: Ticket,
    earlier: Message,
    **fields: Any,
) -> Response:
    """Ask before a second public reply."""
    ago = max(0, int((utcnow() - earlier.created_at).total_seconds()))
    return _confirm_reply(request, user, ticket, {"earlier": earlier, "ago": ago}, **fields)


def _confirm_reply(
    request: Request, user: WebUser, ticket: Ticket, asked: dict[str, Any], **fields: Any
) -> Response:
    """Ask before sending (a second public reply, personal data in public): HTMX gets the
    confirm step inside the composer (200, retargeted), a plain form post a page with
    the same form (409)."""
    context: dict[str, Any] = {"ticket": ticket, "fields": fields, "found": [], **asked}
    if is_htmx(request):
        response = render(request, "reply_confirm.html", user, **context)
        response.headers["HX-Retarget"] = "#reply-confirm"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "reply_confirm_page.html", user, status_code=409, nav="inbox", **context)


@router.post("/tickets/{ticket_id}/private")
def move_to_private(
    request: Request,
    ticket_id: IdPath,
    user: FormUser,
    mode: Annotated[Literal["invite", "dm"], Form()] = "invite",
    body: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Invite the customer publicly to DM, or open the DM where the network allows."""
    require_writer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        ticket = load_ticket(session, user, ticket_id)
        actor = _actor(session, user)
        try:
            private_actions.move_to_private(session, ticket, actor, mode=mode, body=body or None)
        except ActionError as exc:
            raise action_error(exc) from exc
    notice = (
        "Moved to private: the direct message is queued."
        if mode == "dm"
        else "Moved to private: the public invitation to DM is queued."
    )
    return _done(request, ticket_id, user, notice)


@router.post("/tickets/{ticket_id}/note")
def note(
    request: Request,
    ticket_id: IdPath,
    user: FormUser,
    body: Annotated[str, Form(max_length=20_000)],
) -> Response:
    require_writer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        ticket = load_ticket(session, user, ticket_id)
        try:
            actions.add_note(session, ticket, _actor(session, user), body)
        except ActionError as exc:
            raise action_error(exc) from exc
    return _done(request, ticket_id, user)


@router.post("/tickets/{ticket_id}/update")
def update(
    request: Request,
    ticket_id: IdPath,
    user: FormUser,
    assignee_id: Annotated[str | None, Form()] = None,
    status: Annotated[TicketStatus | None, Form()] = None,
    priority: Annotated[Priority | None, Form()] = None,
    tags: Annotated[str | None, Form(max_length=2000)] = None,
    assign_me: Annotated[str, Form()] = "",
) -> Response:
    require_writer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        ticket = load_ticket(session, user, ticket_id)
        actor = _actor(session, user)
        try:
            if assign_me:
                actions.assign(session, ticket, actor, actor.id)
            elif assignee_id is not None:
                chosen = parse_id(assignee_id)
                actions.assign(session, ticket, actor, chosen)
            if priority is not None:
                actions.set_priority(session, ticket, actor, priority)
            if tags is not None:
                actions.set_tags(session, ticket, actor, tags.split(","))
            if status is not None:
                actions.set_status(session, ticket, actor, status)
        except ActionError as exc:
            raise action_error(exc) from exc
    forget_counts()
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/presence", response_class=HTMLResponse)
def ping(
    request: Request,
    ticket_id: IdPath,
    user: FormUser,
    typing: Annotated[str, Form()] = "",
    leaving: Annotated[str, Form()] = "",
) -> Response:
    database: Database = request.app.state.db
    with database.session() as session:
        workspace_id = load_ticket(session, user, ticket_id).workspace_id
    if leaving:
        presence.leave(database, workspace_id, ticket_id, user.id)
        return HTMLResponse("")
    presence.touch(database, workspace_id, ticket_id, user.id, user.label, typing=bool(typing))
    with database.session() as session:
        others = presence.others(session, ticket_id, user.id)
    return render(request, "presence.html", user, others=others)

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions import email_route as email_routes
from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions import logged_contacts, triage_labels
from socialdesk.actions import peer_answers as peer_answer_actions
from socialdesk.actions import private as private_actions
from socialdesk.actions import retries as retry_actions
from socialdesk.actions import tickets as actions
from socialdesk.domain.enums import Direction, Platform, Priority, Visibility
from socialdesk.domain.search_query import parse_search
from socialdesk.radar import views as radar_views
from socialdesk.sla import views as sla_views
from socialdesk.store.db import utcnow
from socialdesk.store.models import Contact, Message, Ticket, TicketEvent, User
from socialdesk.store.repos.tickets import (
    CursorError,
    TicketFilter,
    filter_for_view,
    identities_of,
    list_tickets,
    messages_of,
    parse_statuses,
    tags_for,
)
from socialdesk.triage.rules import INTENTS
from socialdesk.triage.trend import trend_of
from socialdesk.web.api.params import DB_INT_MAX, DbId, IdPath, TicketCursor
from socialdesk.web.api.schemas import (
    ApprovalDraftOut,
    AssignRequest,
    ContactBrief,
    ContactOut,
    IdentityOut,
    LogContactRequest,
    MessageOut,
    MoveToPrivateRequest,
    NoteRequest,
    PeerAnswerOut,
    ReplyRequest,
    TicketDetail,
    TicketEventOut,
    TicketPage,
    TicketPatch,
    TicketSummary,
    TriageTrendOut,
)
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

InboxView = Literal[
    "needs_reply", "unassigned", "mine", "open", "pending", "solved", "at_risk", "promises_due"
]

router = APIRouter(prefix="/tickets", tags=["tickets"])


def _csv_enum(
    value: str | None, allowed: type[Platform] | type[Priority], name: str
) -> set[str] | None:
    if not value:
        return None
    parts = {p.strip().lower() for p in value.split(",") if p.strip()}
    valid = {str(v) for v in allowed}
    unknown = parts - valid
    if unknown:
        raise ApiError(
            422, f"unknown {name} {sorted(unknown)[0]!r}; use {', '.join(sorted(valid))}"
        )
    return parts


SENTIMENTS = ("negative", "neutral", "positive")


def _csv_labels(value: str | None, allowed: tuple[str, ...], name: str) -> set[str] | None:
    if not value:
        return None
    parts = {p.strip().lower() for p in value.split(",") if p.strip()}
    unknown = parts - set(allowed)
    if unknown:
        raise ApiError(422, f"unknown {name} {sorted(unknown)[0]!r}; use {', '.join(allowed)}")
    return parts or None


def _summary(row: Any, tags: list[str]) -> TicketSummary:
    data = row._asdict()
    contact = (
        ContactBrief(id=data["contact_id"], display_name=data.pop("contact_name") or "")
        if data.get("contact_id")
        else None
    )
    data.pop("contact_name", None)
    data.pop("contact_id", None)
    return TicketSummary(**data, contact=contact, tags=tags)


@router.get("", response_model=TicketPage)
def list_(
    session: ReadSession,
    user: CurrentUser,
    view: Annotated[
        InboxView | None,
        Query(
            description="an inbox view: exactly the tickets the inbox lists under it"
            " ('mine' = assigned to you; needs_reply: customers waiting on us, longest"
            " wait first; promises_due: an agent's promise is past due); status and"
            " assignee, when given, take precedence"
        ),
    ] = None,
    status: Annotated[
        str | None, Query(description="comma list; 'unsolved' = new,open,pending,on_hold")
    ] = None,
    channel: Annotated[
        str | None, Query(description="platform(s), comma list: x, facebook, email…")
    ] = None,
    account: Annotated[DbId | None, Query(description="channel account id")] = None,
    assignee: Annotated[str | None, Query(description="user id, 'me' or 'none'")] = None,
    team: DbId | None = None,
    priority: Annotated[str | None, Query(description="comma list")] = None,
    tag: str | None = None,
    contact: DbId | None = None,
    workspace: DbId | None = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description='search messages, subjects and customers: words, "a phrase",'
            " @handle, from:handle or from:address, channel:x (docs/api.md)",
        ),
    ] = None,
    sentiment: Annotated[
        str | None, Query(description="comma list: negative, neutral, positive")
    ] = None,
    intent: Annotated[
        str | None,
        Query(description="comma list: " + ", ".join(INTENTS)),
    ] = None,
    topic: Annotated[str | None, Query(max_length=80)] = None,
    min_urgency: Annotated[int | None, Query(ge=0, le=100)] = None,
    sort: Annotated[
        Literal["newest", "oldest"] | None,
        Query(description="default newest; oldest (longest wait) for view=needs_reply"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: TicketCursor = None,
) -> TicketPage:
    allowed = workspace_ids(session, user)
    if workspace is not None:
        if workspace not in allowed:
            raise ApiError(403, f"you are not a member of workspace {workspace}")
        allowed = [workspace]
    assignee_id, unassigned = None, False
    if assignee == "me":
        assignee_id = user.id
    elif assignee == "none":
        unassigned = True
    elif assignee:
        if not assignee.isdigit() or not 0 < int(assignee) <= DB_INT_MAX:
            raise ApiError(422, "assignee must be a user id, 'me' or 'none'")
        assignee_id = int(assignee)
    try:
        statuses = parse_statuses(status)
        if q:
            parse_search(q)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    within, work_view = None, None
    if view is not None:
        shown = filter_for_view(allowed, user.id, view)
        statuses = statuses if statuses is not None else shown.statuses
        if not assignee:
            assignee_id, unassigned = shown.assignee_id, shown.unassigned
        work_view = shown.view
        if view == "at_risk":
            within = sla_views.at_risk_tickets(allowed, utcnow())
    filters = TicketFilter(
        within=within,
        workspace_ids=allowed,
        statuses=statuses,
        platforms=_csv_enum(channel, Platform, "channel"),
        account_id=account,
        assignee_id=assignee_id,
        unassigned=unassigned,
        team_id=team,
        priorities=_csv_enum(priority, Priority, "priority"),
        tag=tag,
        contact_id=contact,
        q=q.strip() if q and q.strip() else None,
        view=work_view,
        sentiments=_csv_labels(sentiment, SENTIMENTS, "sentiment"),
        intents=_csv_labels(intent, INTENTS, "intent"),
        topic=topic.strip() if topic and topic.strip() else None,
        min_urgency=min_urgency,
    )
    order = sort or ("oldest" if view == "needs_reply" else "newest")
    try:
        rows, next_cursor = list_tickets(session, filters, sort=order, limit=limit, cursor=cursor)
    except CursorError as exc:
        raise ApiError(400, str(exc)) from exc
    tags = tags_for(session, [r.id for r in rows])
    return TicketPage(data=[_summary(r, tags[r.id]) for r in rows], next_cursor=next_cursor)


def load_ticket(session: Session, user: User, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"ticket {ticket_id} not found")
    return ticket


def _detail(session: Session, ticket: Ticket) -> TicketDetail:
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    contact_out = None
    if contact is not None:
        contact_out = ContactOut.model_validate(contact)
        contact_out.identities = [
            IdentityOut.model_validate(i) for i in identities_of(session, contact.id)
        ]
    messages = messages_of(session, ticket.id)
    trend = trend_of([m.triage for m in messages if m.direction == Direction.INBOUND])
    return TicketDetail(
        id=ticket.id,
        workspace_id=ticket.workspace_id,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        platform=ticket.platform,
        channel_account_id=ticket.channel_account_id,
        assignee_id=ticket.assignee_id,
        team_id=ticket.team_id,
        contact=ContactBrief(id=contact.id, display_name=contact.display_name) if contact else None,
        needs_reply=ticket.needs_reply,
        awaiting_since=ticket.awaiting_since,
        message_count=ticket.message_count,
        first_message_at=ticket.first_message_at,
        last_message_at=ticket.last_message_at,
        first_response_at=ticket.first_response_at,
        first_response_due_at=ticket.first_response_due_at,
        sla_breached=ticket.sla_breached,
        sentiment=ticket.sentiment,
        intent=ticket.intent,
        sentiment_label=ticket.sentiment_label,
        urgency=ticket.urgency,
        topic=ticket.topic,
        tags=tags_for(session, [ticket.id])[ticket.id],
        created_at=ticket.created_at,
        messages=[MessageOut.model_validate(m) for m in messages],
        triage_trend=TriageTrendOut(**trend.as_dict()),
        incident_ids=[i.id for i in radar_views.incidents_of_ticket(session, ticket.id)],
        contact_detail=contact_out,
        follow_up_of_id=ticket.follow_up_of_id,
        solved_at=ticket.solved_at,
        peer_answers=[
            PeerAnswerOut.model_validate(a)
            for a in peer_answer_actions.of_ticket(session, ticket.id)
        ],
    )


@router.post("", response_model=TicketDetail, status_code=201)
def log_contact(body: LogContactRequest, session: WriteSession, user: CurrentUser) -> TicketDetail:
    """A phone call, walk-in visit or other contact handled off-line, logged as a ticket
    of its own channel (``phone``, ``walk_in``, ``other``) assigned to the caller, with
    the summary as a note; ``solved`` solves it at once. 403 for viewers."""
    allowed = workspace_ids(session, user)
    workspace = body.workspace_id if body.workspace_id is not None else next(iter(allowed), None)
    if workspace is None or workspace not in allowed:
        raise ApiError(403, "you are not a member of that workspace")
    entry = logged_contacts.LoggedContact(
        channel=body.channel,
        summary=body.summary,
        handle_seconds=body.handle_seconds,
        name=body.name,
        phone=body.phone,
        email=body.email,
        solved=body.solved,
        started_at=body.started_at,
    )
    ticket = logged_contacts.log_contact(session, user, workspace, entry)
    session.flush()
    return _detail(session, ticket)


@router.get("/{ticket_id}", response_model=TicketDetail)
def detail(ticket_id: IdPath, session: ReadSession, user: CurrentUser) -> TicketDetail:
    return _detail(session, load_ticket(session, user, ticket_id))


@router.get("/{ticket_id}/events", response_model=list[TicketEventOut])
def events(ticket_id: IdPath, session: ReadSession, user: CurrentUser) -> list[TicketEvent]:
    load_ticket(session, user, ticket_id)
    return list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
    )


@router.post(
    "/{ticket_id}/replies",
    response_model=MessageOut,
    status_code=201,
    responses={
        202: {"model": ApprovalDraftOut, "description": "no posting right: held for approval"},
        409: {
            "description": "code second_reply: another public reply went out just now; "
            "code personal_data: a public reply would publish an e-mail address, a phone, "
            "card or order number or a street address (details.found names each)"
        },
    },
)
def reply(
    ticket_id: IdPath,
    body: ReplyRequest,
    session: WriteSession,
    user: CurrentUser,
    background: BackgroundTasks,
    request: Request,
) -> Any:
    """201 with the message queued for delivery; 202 with the approval draft when the
    caller may not post on the account (a lead approves it); 409 ``second_reply``
    unless ``confirm`` when a public reply went out within two minutes, 409
    ``personal_data`` unless ``confirm`` when a public reply contains personal data; 422
    ``outside_window`` when the network's messaging window (WhatsApp's 24 hours) is
    closed and no approved ``template`` was chosen, ``template_refused`` for one the
    account has not got; 422 ``images_not_allowed`` when ``attachment_ids`` name images
    the network does not take on this kind of reply."""
    ticket = load_ticket(session, user, ticket_id)
    route = email_routes.email_route(session, ticket) if body.via == "email" else None
    if body.via == "email" and route is None:
        raise ApiError(
            422,
            "cannot reply by e-mail: the customer has no e-mail address on record "
            "or the workspace has no active e-mail account",
        )
    outcome = inbox_actions.send_reply(
        session,
        ticket,
        user,
        body.body,
        visibility=Visibility.PRIVATE
        if route
        else body.visibility or customer_visibility(session, ticket),
        status_after=body.status,
        client_key=body.client_key,
        send_at=body.send_at,
        via_email=route,
        confirm=body.confirm,
        template=body.template,
        canned_ids=body.canned_response_ids,
        attachment_ids=body.attachment_ids,
    )
    if outcome.draft is not None:
        draft = ApprovalDraftOut.model_validate(outcome.draft)
        return JSONResponse(jsonable_encoder(draft), status_code=202)
    # Wake the delivery worker once the reply is committed (after the response).
    background.add_task(request.app.state.delivery_worker.kick)
    return outcome.message


@router.post("/{ticket_id}/replies/{message_id}/cancel", response_model=MessageOut)
def cancel_scheduled_reply(
    ticket_id: IdPath, message_id: IdPath, session: WriteSession, user: CurrentUser
) -> Any:
    """Cancel a scheduled reply before it goes out (409 once it is being sent)."""
    ticket = load_ticket(session, user, ticket_id)
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise ApiError(404, f"message {message_id} not found on ticket {ticket_id}")
    return actions.cancel_scheduled_reply(session, ticket, user, message)


@router.post("/{ticket_id}/replies/{message_id}/retry", response_model=MessageOut)
def retry_reply(
    request: Request,
    background: BackgroundTasks,
    ticket_id: IdPath,
    message_id: IdPath,
    session: WriteSession,
    user: CurrentUser,
) -> Any:
    """Send a failed reply again (409 unless it failed; 409 while its account needs
    re-authorization)."""
    ticket = load_ticket(session, user, ticket_id)
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise ApiError(404, f"message {message_id} not found on ticket {ticket_id}")
    retried = retry_actions.retry_failed_reply(session, ticket, user, message)
    background.add_task(request.app.state.delivery_worker.kick)
    return retried


def customer_visibility(session: Session, ticket: Ticket) -> Visibility:
    """How the customer last wrote on this ticket (public when they never did)."""
    latest = session.scalar(
        select(Message.visibility)
        .where(Message.ticket_id == ticket.id, Message.direction == str(Direction.INBOUND))
        # By when it was written: a late delivery of an older post is not the latest.
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return Visibility(latest) if latest else Visibility.PUBLIC


@router.post("/{ticket_id}/notes", response_model=MessageOut, status_code=201)
def note(ticket_id: IdPath, body: NoteRequest, session: WriteSession, user: CurrentUser) -> Any:
    return actions.add_note(session, load_ticket(session, user, ticket_id), user, body.body)


@router.post("/{ticket_id}/assign", response_model=TicketDetail)
def assign(
    ticket_id: IdPath, body: AssignRequest, session: WriteSession, user: CurrentUser
) -> TicketDetail:
    ticket = load_ticket(session, user, ticket_id)
    actions.assign(session, ticket, user, body.assignee_id, body.team_id)
    session.flush()
    return _detail(session, ticket)


@router.patch("/{ticket_id}", response_model=TicketDetail)
def update(
    ticket_id: IdPath, body: TicketPatch, session: WriteSession, user: CurrentUser
) -> TicketDetail:
    ticket = load_ticket(session, user, ticket_id)
    given = body.model_fields_set
    if not given:
        raise ApiError(
            422,
            "nothing to change; send status, priority, tags, assignee_id, team_id,"
            " sentiment, intent or topic",
        )
    if "assignee_id" in given or "team_id" in given:
        actions.assign(
            session,
            ticket,
            user,
            body.assignee_id if "assignee_id" in given else ticket.assignee_id,
            body.team_id if "team_id" in given else None,
        )
    if body.priority is not None:
        actions.set_priority(session, ticket, user, body.priority)
    if body.tags is not None:
        actions.set_tags(session, ticket, user, body.tags)
    if body.status is not None:
        actions.set_status(session, ticket, user, body.status)
    if body.sentiment is not None or body.intent is not None or body.topic is not None:
        triage_labels.set_triage_labels(
            session, ticket, user, sentiment=body.sentiment, intent=body.intent, topic=body.topic
        )
    session.flush()
    return _detail(session, ticket)


@router.post("/{ticket_id}/move-to-private", response_model=MessageOut, status_code=201)
def move_to_private(
    ticket_id: IdPath,
    body: MoveToPrivateRequest,
    session: WriteSession,
    user: CurrentUser,
    background: BackgroundTasks,
    request: Request,
) -> Any:
    ticket = load_ticket(session, user, ticket_id)
    background.add_task(request.app.state.delivery_worker.kick)
    return private_actions.move_to_private(session, ticket, user, mode=body.mode, body=body.body)

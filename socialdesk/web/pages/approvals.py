"""The approval queue: replies drafted by users without posting rights, for leads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions.recording import ActionError, NeedsConfirmation
from socialdesk.actions.uploads import draft_upload_rows
from socialdesk.store.db import Database
from socialdesk.store.models import ApprovalDraft, Ticket, User
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error, render
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)


def _require_reviewer(user: WebUser) -> None:
    if user.role not in ("admin", "lead"):
        raise PageError(403, "Only leads and admins review drafts.")


def _queue_context(user: WebUser, session: Session) -> dict[str, Any]:
    rows = list(
        session.execute(
            select(ApprovalDraft, Ticket.subject, Ticket.platform, User.name, User.email)
            .join(Ticket, Ticket.id == ApprovalDraft.ticket_id)
            .outerjoin(User, User.id == ApprovalDraft.author_user_id)
            .where(
                ApprovalDraft.workspace_id.in_(user.workspace_ids),
                ApprovalDraft.state == "pending",
            )
            .order_by(ApprovalDraft.id)
            .limit(200)
        )
    )
    # The thread since each draft was written: a colleague's public reply there means
    # approving sends a second one, so the card shows it and asks to confirm.
    answered = {row[0].id: inbox_actions.answered_since(session, row[0]) for row in rows}
    images = draft_upload_rows(session, [row[0].id for row in rows])
    return {"rows": rows, "answered": answered, "images": images, "nav": "approvals"}


@router.get("/approvals", response_class=HTMLResponse)
def queue(request: Request, user: PageUser) -> Response:
    _require_reviewer(user)
    database: Database = request.app.state.db
    with database.session() as session:
        context = _queue_context(user, session)
        return render(request, "approvals.html", user, **context)


@router.get("/approvals/count", response_class=HTMLResponse)
def pending_count(request: Request, user: PageUser) -> Response:
    """The nav's badge alone, fetched again when a draft is submitted or reviewed."""
    _require_reviewer(user)
    return render(request, "approvals_count.html", user)


@router.post("/approvals/{draft_id}")
def review(
    request: Request,
    draft_id: IdPath,
    user: FormUser,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    body: Annotated[str | None, Form(max_length=20_000)] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    _require_reviewer(user)
    database: Database = request.app.state.db
    try:
        with database.write() as session:
            draft = session.get(ApprovalDraft, draft_id)
            if draft is None or draft.workspace_id not in user.workspace_ids:
                raise PageError(404, f"Draft {draft_id} was not found.")
            reviewer = session.get(User, user.id)
            assert reviewer is not None
            if decision == "approve":
                inbox_actions.approve_draft(
                    session, draft, reviewer, body=body, confirm=bool(confirm)
                )
            else:
                inbox_actions.reject_draft(session, draft, reviewer, note)
    except NeedsConfirmation as exc:
        # Nothing was sent: the queue again, this card showing the replies and asking.
        with database.session() as session:
            context = _queue_context(user, session)
            return render(
                request, "approvals.html", user, status_code=409, error=exc.message,
                confirm_draft=draft_id, edited={draft_id: body}, **context,
            )  # fmt: skip
    except ActionError as exc:
        raise action_error(exc) from exc
    return RedirectResponse("/approvals", status_code=303)

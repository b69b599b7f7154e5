"""The approval queue: replies drafted by users without posting rights, for leads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions.recording import ActionError
from socialdesk.store.db import Database
from socialdesk.store.models import ApprovalDraft, Ticket, User
from socialdesk.web.pages.common import PageError, action_error, render
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)


def _require_reviewer(user: WebUser) -> None:
    if user.role not in ("admin", "lead"):
        raise PageError(403, "Only leads and admins review drafts.")


@router.get("/approvals", response_class=HTMLResponse)
def queue(request: Request, user: PageUser) -> Response:
    _require_reviewer(user)
    database: Database = request.app.state.db
    with database.session() as session:
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
    return render(request, "approvals.html", user, rows=rows, nav="approvals")


@router.post("/approvals/{draft_id}")
def review(
    request: Request,
    draft_id: int,
    user: FormUser,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    body: Annotated[str | None, Form(max_length=20_000)] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _require_reviewer(user)
    database: Database = request.app.state.db
    with database.write() as session:
        draft = session.get(ApprovalDraft, draft_id)
        if draft is None or draft.workspace_id not in user.workspace_ids:
            raise PageError(404, f"Draft {draft_id} was not found.")
        reviewer = session.get(User, user.id)
        assert reviewer is not None
        try:
            if decision == "approve":
                inbox_actions.approve_draft(session, draft, reviewer, body=body)
            else:
                inbox_actions.reject_draft(session, draft, reviewer, note)
        except ActionError as exc:
            raise action_error(exc) from exc
    return RedirectResponse("/approvals", status_code=303)

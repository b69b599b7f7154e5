"""The approval queue over the API: replies drafted by users without posting rights
(``POST /tickets/{id}/replies`` answers 202 with the draft), approved or rejected by
leads and admins through the same actions as the Approvals page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions import inbox as inbox_actions
from socialdesk.actions.uploads import draft_upload_rows
from socialdesk.store.models import ApprovalDraft, User
from socialdesk.web.api.params import IdPath
from socialdesk.web.api.schemas import (
    ApprovalDecision,
    ApprovalDraftOut,
    ApprovalRejection,
    MessageOut,
)
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/approvals", tags=["approvals"])


class DraftImageOut(BaseModel):
    """An image the draft holds, sent with it when approved."""

    upload_id: int
    name: str | None
    mime_type: str
    size: int
    alt_text: str | None
    content_url: str


class PendingDraftOut(ApprovalDraftOut):
    # Public replies sent on the ticket since the draft was written: approving then
    # needs "confirm": true.
    answered_since: list[MessageOut] = []
    # The images the reply carries, in order (GET content_url for each).
    attachments: list[DraftImageOut] = []


def _draft(session: Session, user: User, draft_id: int) -> ApprovalDraft:
    draft = session.get(ApprovalDraft, draft_id)
    if draft is None or draft.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"approval draft {draft_id} not found")
    return draft


@router.get("", response_model=list[PendingDraftOut])
def pending(session: ReadSession, user: CurrentUser) -> list[PendingDraftOut]:
    """Drafts waiting for review in the caller's workspaces, oldest first."""
    drafts = session.scalars(
        select(ApprovalDraft)
        .where(
            ApprovalDraft.workspace_id.in_(workspace_ids(session, user)),
            ApprovalDraft.state == "pending",
        )
        .order_by(ApprovalDraft.id)
        .limit(200)
    )
    out = []
    listed = list(drafts)
    images = draft_upload_rows(session, [d.id for d in listed])
    for draft in listed:
        since = inbox_actions.answered_since(session, draft)
        item = PendingDraftOut.model_validate(draft)
        item.answered_since = [MessageOut.model_validate(m) for m in since]
        item.attachments = [
            DraftImageOut(
                upload_id=u.id,
                name=u.name,
                mime_type=u.mime_type,
                size=u.size,
                alt_text=u.alt_text,
                content_url=f"/api/v1/uploads/{u.id}/content",
            )
            for u in images.get(draft.id, [])
        ]
        out.append(item)
    return out


@router.post("/{draft_id}/approve", response_model=MessageOut)
def approve(
    draft_id: IdPath,
    body: ApprovalDecision,
    session: WriteSession,
    user: CurrentUser,
    background: BackgroundTasks,
    request: Request,
) -> Any:
    """Send the draft (or ``body``, the reviewer's edit); 409 ``answered_since_draft``
    with the replies in ``details`` unless ``confirm`` when someone answered since."""
    draft = _draft(session, user, draft_id)
    message = inbox_actions.approve_draft(
        session, draft, user, body=body.body or None, confirm=body.confirm
    )
    background.add_task(request.app.state.delivery_worker.kick)
    return message


@router.post("/{draft_id}/reject", response_model=ApprovalDraftOut)
def reject(
    draft_id: IdPath, body: ApprovalRejection, session: WriteSession, user: CurrentUser
) -> ApprovalDraft:
    draft = _draft(session, user, draft_id)
    inbox_actions.reject_draft(session, draft, user, body.note)
    return draft

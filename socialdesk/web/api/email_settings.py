"""``/api/v1/email/settings``: how customers' e-mail signatures are shown."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from socialdesk.actions.email_settings import email_settings, update_email_settings
from socialdesk.store.models import User, Workspace
from socialdesk.web.api.params import DbId
from socialdesk.web.api.schemas import PatchModel
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/email", tags=["e-mail"])


class EmailSettingsPatch(PatchModel):
    # "folded" (default: under the message, behind a "Signature" disclosure) or "kept".
    signatures: str | None = None


def _workspace(session: Session, user: User, requested: int | None) -> Workspace:
    allowed = workspace_ids(session, user)
    if requested is not None and requested not in allowed:
        raise ApiError(403, f"you are not a member of workspace {requested}")
    if requested is None and not allowed:
        raise ApiError(403, "you are not a member of any workspace")
    workspace = session.get(Workspace, requested if requested is not None else allowed[0])
    assert workspace is not None
    return workspace


@router.get("/settings")
def get_email_settings(
    session: ReadSession, user: CurrentUser, workspace: DbId | None = None
) -> dict[str, Any]:
    return email_settings(_workspace(session, user, workspace))


@router.patch("/settings")
def patch_email_settings(
    body: EmailSettingsPatch,
    session: WriteSession,
    user: CurrentUser,
    workspace: DbId | None = None,
) -> dict[str, Any]:
    ws = _workspace(session, user, workspace)
    return update_email_settings(session, user, ws, body.model_dump(exclude_none=True))

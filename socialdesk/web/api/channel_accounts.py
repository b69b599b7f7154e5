from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions import admin
from socialdesk.actions.channel_check import check_channel_credentials
from socialdesk.auth.secret_box import SecretBoxError, decrypt_secrets
from socialdesk.channels.health import account_health
from socialdesk.domain.enums import AccountStatus, Role
from socialdesk.store.models import ChannelAccount, User
from socialdesk.web.api.params import IdPath
from socialdesk.web.api.schemas import (
    ChannelAccountCreate,
    ChannelAccountOut,
    ChannelAccountPatch,
    ChannelHealthOut,
    CredentialCheckOut,
    SilenceOut,
)
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, require_role, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/channel-accounts", tags=["channel accounts"])
MANAGERS = (Role.ADMIN, Role.LEAD)


def account_out(account: ChannelAccount) -> ChannelAccountOut:
    try:
        names = sorted(decrypt_secrets(account.secrets_encrypted))
    except SecretBoxError:
        names = []
    return ChannelAccountOut(
        id=account.id,
        workspace_id=account.workspace_id,
        platform=account.platform,
        handle=account.handle,
        external_id=account.external_id,
        display_name=account.display_name,
        settings=account.settings,
        status=account.status,
        status_reason=account.status_reason,
        needs_reauthorization=account.status == AccountStatus.NEEDS_REAUTH,
        has_secrets=account.secrets_encrypted is not None,
        secret_names=names,
        last_received_at=account.last_received_at,
        last_sent_at=account.last_sent_at,
        created_at=account.created_at,
        credential_check=check_out(account.credential_check),
    )


def check_out(record: dict[str, Any] | None) -> CredentialCheckOut | None:
    """The stored check (``actions/channel_check.py``) as the API shows it."""
    if not record or "state" not in record:
        return None
    return CredentialCheckOut(ok=record["state"] == "confirmed", **record)


def _load(session: Session, user: User, account_id: int) -> ChannelAccount:
    account = session.get(ChannelAccount, account_id)
    if account is None or account.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"channel account {account_id} not found")
    return account


@router.get("", response_model=list[ChannelAccountOut])
def list_(session: ReadSession, user: CurrentUser) -> list[ChannelAccountOut]:
    accounts = session.scalars(
        select(ChannelAccount)
        .where(ChannelAccount.workspace_id.in_(workspace_ids(session, user)))
        .order_by(ChannelAccount.platform, ChannelAccount.handle)
    )
    return [account_out(a) for a in accounts]


@router.post("", response_model=ChannelAccountOut, status_code=201)
def create(
    body: ChannelAccountCreate, session: WriteSession, user: CurrentUser
) -> ChannelAccountOut:
    require_role(user, *MANAGERS)
    allowed = workspace_ids(session, user)
    workspace_id = (
        body.workspace_id if body.workspace_id is not None else (allowed[0] if allowed else None)
    )
    if workspace_id is None or workspace_id not in allowed:
        raise ApiError(403, f"you are not a member of workspace {body.workspace_id}")
    account = admin.create_channel_account(
        session,
        user,
        workspace_id=workspace_id,
        platform=body.platform,
        handle=body.handle,
        external_id=body.external_id,
        display_name=body.display_name,
        secrets=body.secrets,
        settings=body.settings,
    )
    return account_out(account)


@router.post(
    "/{account_id}/check",
    response_model=CredentialCheckOut,
    responses={
        403: {"description": "only admins and leads check credentials"},
        404: {"description": "no such account in your workspaces"},
    },
)
async def check(account_id: IdPath, request: Request, user: CurrentUser) -> CredentialCheckOut:
    """Ask the network, live, whom the stored credentials belong to. Always 200 with the
    outcome in ``state``: a refusal also marks the account ``needs_reauth``; a
    confirmation clears it. The outcome is kept as the account's ``credential_check``."""
    require_role(user, *MANAGERS)
    db = request.app.state.db
    with db.session() as session:
        _load(session, user, account_id)
    result = await check_channel_credentials(
        db, request.app.state.moderation_connectors, user.id, account_id
    )
    out = check_out(result.as_record())
    assert out is not None
    return out


@router.get("/{account_id}", response_model=ChannelAccountOut)
def detail(account_id: IdPath, session: ReadSession, user: CurrentUser) -> ChannelAccountOut:
    return account_out(_load(session, user, account_id))


@router.patch("/{account_id}", response_model=ChannelAccountOut)
def update(
    account_id: IdPath, body: ChannelAccountPatch, session: WriteSession, user: CurrentUser
) -> ChannelAccountOut:
    require_role(user, *MANAGERS)
    account = admin.update_channel_account(
        session,
        user,
        _load(session, user, account_id),
        handle=body.handle,
        display_name=body.display_name,
        secrets=body.secrets,
        settings=body.settings,
        status=body.status,
    )
    session.flush()
    return account_out(account)


@router.delete("/{account_id}", status_code=204)
def delete(account_id: IdPath, session: WriteSession, user: CurrentUser) -> Response:
    require_role(user, Role.ADMIN)
    admin.delete_channel_account(session, user, _load(session, user, account_id))
    return Response(status_code=204)


def _health(session: Session, account: ChannelAccount) -> ChannelHealthOut:
    health = account_health(session, account)
    silence = health.silence
    return ChannelHealthOut(
        account_id=account.id,
        platform=account.platform,
        handle=account.handle,
        status=account.status,
        needs_reauthorization=health.needs_reauthorization,
        status_reason=account.status_reason,
        last_received_at=account.last_received_at,
        last_sent_at=account.last_sent_at,
        last_polled_at=account.last_polled_at,
        rate_limit=health.rate_limit,
        silence=SilenceOut(
            silent=silence.silent,
            usual_gap_seconds=silence.usual_gap.total_seconds() if silence.usual_gap else None,
            quiet_for_seconds=silence.quiet_for.total_seconds() if silence.quiet_for else None,
            reason=silence.reason,
        ),
        queued_replies=health.queued_replies,
        failed_replies=health.failed_replies,
    )


@router.get("/{account_id}/health", response_model=ChannelHealthOut)
def health(account_id: IdPath, session: ReadSession, user: CurrentUser) -> ChannelHealthOut:
    return _health(session, _load(session, user, account_id))

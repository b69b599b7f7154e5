"""Settings → Channels (admins and leads): every connected account with its health, the
re-authorize form for one that lost access, pausing, and connecting a new account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from socialdesk.actions import admin
from socialdesk.actions.channel_check import check_channel_credentials
from socialdesk.channels.descriptor import Absent
from socialdesk.channels.health import account_health
from socialdesk.channels.networks import all_networks
from socialdesk.domain.enums import AccountStatus, Platform
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError
from socialdesk.web.pages.settings.base import ADMIN_LEAD, actor, owned, page, require
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)

# The credentials each network's connector reads (the first is required to connect),
# from its descriptor's secrets schema.
CREDENTIALS: dict[str, tuple[tuple[str, str], ...]] = {
    d.name: () if isinstance(d.secrets, Absent) else tuple((f.name, f.label) for f in d.secrets)
    for d in all_networks()
}


def credential_names(platform: str) -> list[str]:
    return [name for name, _ in CREDENTIALS.get(platform, ())]


def _secrets_from_form(platform: str, values: dict[str, str]) -> dict[str, str]:
    """The non-empty credentials this network uses; anything else in the form is ignored."""
    return {
        name: values[name].strip()
        for name in credential_names(platform)
        if values.get(name, "").strip()
    }


def _channels_page(
    request: Request, user: WebUser, status_code: int = 200, **extra: object
) -> HTMLResponse:
    database: Database = request.app.state.db
    with database.session() as s:
        accounts = s.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.workspace_id.in_(user.workspace_ids))
            .order_by(ChannelAccount.platform, ChannelAccount.handle)
        )
        health = [account_health(s, a) for a in accounts]
    return page(
        request,
        user,
        "settings_channels.html",
        "channels",
        status_code=status_code,
        health=health,
        credentials=CREDENTIALS,
        platforms=[str(p) for p in Platform],
        **extra,
    )


def _first_credential(platform: str, value: str) -> dict[str, str] | None:
    names = credential_names(platform)
    return {names[0]: value.strip()} if names and value.strip() else None


@router.get("/settings/channels", response_class=HTMLResponse)
def channels_page(request: Request, user: PageUser, checked: str = "") -> Response:
    require(user, ADMIN_LEAD)
    return _channels_page(request, user, checked=int(checked) if checked.isdigit() else None)


@router.post("/settings/channels")
async def connect_account(request: Request, user: FormUser) -> Response:
    require(user, ADMIN_LEAD)
    form = {k: str(v) for k, v in (await request.form()).items()}
    platform = form.get("platform", "")
    handle = form.get("handle", "").strip().lstrip("@")
    external_id = form.get("external_id", "").strip()
    problem = None
    if platform not in CREDENTIALS:
        problem = f"Unknown network {platform!r}."
    elif not handle or len(handle) > 200:
        problem = "The handle is required (at most 200 characters)."
    elif not external_id or len(external_id) > 200:
        problem = "The network's id of the account is required (at most 200 characters)."
    if problem:
        return _channels_page(request, user, status_code=400, error=problem, draft=form)
    database: Database = request.app.state.db
    created = None
    with database.write() as s:
        duplicate = s.scalar(
            select(ChannelAccount.id).where(
                ChannelAccount.workspace_id == user.workspace_ids[0],
                ChannelAccount.platform == platform,
                ChannelAccount.external_id == external_id,
            )
        )
        if duplicate is None:
            created = admin.create_channel_account(
                s,
                actor(s, user),
                workspace_id=user.workspace_ids[0],
                platform=Platform(platform),
                handle=handle,
                external_id=external_id,
                display_name=form.get("display_name", "").strip(),
                secrets=_first_credential(platform, form.get("credential", "")),
            )
    if duplicate is not None:
        return _channels_page(
            request,
            user,
            status_code=409,
            error=f"This {platform} account is already connected.",
            draft=form,
        )
    assert created is not None
    return await _check_then_show(request, user, created.id)


async def _check_then_show(request: Request, user: WebUser, account_id: int) -> Response:
    """Ask the network live whom the credentials belong to, then show the outcome on top
    of the page (``?checked=``) and in the account's row."""
    await check_channel_credentials(
        request.app.state.db, request.app.state.moderation_connectors, user.id, account_id
    )
    return RedirectResponse(f"/settings/channels?checked={account_id}", status_code=303)


@router.post("/settings/channels/{account_id}/check")
async def check_now(request: Request, user: FormUser, account_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    with request.app.state.db.session() as s:
        owned(s, user, ChannelAccount, account_id, "channel account")
    return await _check_then_show(request, user, account_id)


@router.post("/settings/channels/{account_id}/reauthorize")
async def reauthorize(request: Request, user: FormUser, account_id: IdPath) -> Response:
    require(user, ADMIN_LEAD)
    form = {k: str(v) for k, v in (await request.form()).items()}
    database: Database = request.app.state.db
    with database.write() as s:
        account: ChannelAccount = owned(s, user, ChannelAccount, account_id, "channel account")
        secrets = _secrets_from_form(account.platform, form)
        required = credential_names(account.platform)[:1]
        if not secrets or any(name not in secrets for name in required):
            raise PageError(400, "Paste the new credential to re-authorize this account.")
        admin.update_channel_account(s, actor(s, user), account, secrets=secrets)
    return await _check_then_show(request, user, account_id)


@router.post("/settings/channels/{account_id}/status")
def pause_or_resume(
    request: Request,
    user: FormUser,
    account_id: IdPath,
    status: Annotated[str, Form()],
) -> Response:
    require(user, ADMIN_LEAD)
    if status not in (AccountStatus.ACTIVE, AccountStatus.DISABLED):
        raise PageError(400, "An account can be set active or disabled here.")
    database: Database = request.app.state.db
    with database.write() as s:
        account: ChannelAccount = owned(s, user, ChannelAccount, account_id, "channel account")
        admin.update_channel_account(s, actor(s, user), account, status=AccountStatus(status))
    return RedirectResponse("/settings/channels", status_code=303)

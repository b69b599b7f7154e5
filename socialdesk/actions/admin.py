"""Administrative writes: workspaces, users (role, deactivation), channel accounts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, audit_user, require_role
from socialdesk.actions.tickets import assign
from socialdesk.auth.password_policy import password_problem
from socialdesk.auth.passwords import hash_password
from socialdesk.auth.secret_box import decrypt_secrets, encrypt_secrets
from socialdesk.channels.accounts import base_url_problem
from socialdesk.domain.enums import UNSOLVED_STATUSES, AccountStatus, Platform, Role
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import (
    ApiToken,
    ChannelAccount,
    Membership,
    Ticket,
    User,
    WebSession,
    Workspace,
)

DEFAULT_WORKSPACE_SLUG = "default"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OPEN_STATUSES = sorted(str(s) for s in UNSOLVED_STATUSES)
ADMINS = (str(Role.ADMIN),)
MANAGERS = (str(Role.ADMIN), str(Role.LEAD))
_ACCOUNTS_REFUSED = "only admins and leads manage channel accounts"
_USERS_REFUSED = "only admins manage users"


def ensure_workspace(
    session: Session, slug: str = DEFAULT_WORKSPACE_SLUG, name: str | None = None
) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        workspace = Workspace(
            slug=slug, name=name or slug.replace("-", " ").title(), settings={}, created_at=utcnow()
        )
        session.add(workspace)
        session.flush()
        audit(
            session,
            None,
            "workspace.created",
            "workspace",
            workspace.id,
            workspace.id,
            {"slug": slug},
        )
    return workspace


def create_user(
    session: Session,
    email: str,
    password: str,
    role: Role,
    *,
    name: str = "",
    actor: User | None = None,
    workspace: Workspace | None = None,
    seed_data: bool = False,
) -> User:
    """A new user in ``workspace``. The password must pass the policy
    (``auth/password_policy.py``); only seed data (``socialdesk demo``'s documented demo
    users) may skip the strength check with ``seed_data``."""
    require_role(actor, ADMINS, _USERS_REFUSED)
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ActionError(f"not an e-mail address: {email!r}", 422)
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise ActionError(f"a user with e-mail {email} already exists", 409)
    problem = None if seed_data else password_problem(password, (email, name))
    if problem:
        raise ActionError(problem, 422)
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise ActionError(str(exc), 422) from exc
    user = User(
        email=email,
        name=name,
        password_hash=password_hash,
        role=str(role),
        is_active=True,
        on_shift=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    workspace = workspace or ensure_workspace(session)
    session.add(Membership(user_id=user.id, workspace_id=workspace.id))
    audit(
        session,
        actor,
        "user.created",
        "user",
        user.id,
        workspace.id,
        {"email": email, "role": str(role)},
    )
    return user


def create_channel_account(
    session: Session,
    actor: User | None,
    *,
    workspace_id: int,
    platform: Platform,
    handle: str,
    external_id: str,
    display_name: str = "",
    secrets: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
) -> ChannelAccount:
    require_role(actor, MANAGERS, _ACCOUNTS_REFUSED)
    handle, external_id = handle.strip(), external_id.strip()
    if not handle or not external_id:
        raise ActionError("handle and external_id must not be empty", 422)
    problem = base_url_problem(platform, handle, (settings or {}).get("base_url"))
    if problem:
        raise ActionError(problem, 422)
    clash = session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.platform == str(platform), ChannelAccount.external_id == external_id
        )
    )
    if clash is not None:
        raise ActionError(
            f"a {platform} account with external_id {external_id} is already connected "
            f"(id {clash.id})",
            409,
        )
    account = ChannelAccount(
        workspace_id=workspace_id,
        platform=str(platform),
        handle=handle,
        external_id=external_id,
        display_name=display_name or handle,
        secrets_encrypted=encrypt_secrets(secrets) if secrets else None,
        settings=settings or {},
        status=str(AccountStatus.ACTIVE),
        created_at=utcnow(),
    )
    session.add(account)
    session.flush()
    audit(
        session,
        actor,
        "channel_account.created",
        "channel_account",
        account.id,
        workspace_id,
        {
            "platform": str(platform),
            "handle": handle,
            "external_id": external_id,
            "secret_names": sorted(secrets or {}),
        },
    )
    return account


def update_channel_account(
    session: Session,
    actor: User | None,
    account: ChannelAccount,
    *,
    handle: str | None = None,
    display_name: str | None = None,
    secrets: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    status: AccountStatus | None = None,
) -> ChannelAccount:
    require_role(actor, MANAGERS, _ACCOUNTS_REFUSED)
    changed: dict[str, Any] = {}
    if handle is not None or settings is not None:  # a token rotation checks nothing here
        problem = base_url_problem(
            Platform(account.platform),
            (handle or "").strip() or account.handle,
            {**account.settings, **(settings or {})}.get("base_url"),
        )
        if problem:
            raise ActionError(problem, 422)
    if handle is not None and handle.strip() and handle != account.handle:
        account.handle = handle.strip()
        changed["handle"] = account.handle
    if display_name is not None and display_name != account.display_name:
        account.display_name = display_name
        changed["display_name"] = display_name
    if secrets is not None:
        # Merge, so rotating one token does not require re-sending the others.
        merged = {**decrypt_secrets(account.secrets_encrypted), **secrets}
        account.secrets_encrypted = encrypt_secrets(merged)
        changed["secret_names"] = sorted(secrets)
        if account.status == AccountStatus.NEEDS_REAUTH:
            account.status = str(AccountStatus.ACTIVE)
            account.status_reason = None
            changed["status"] = account.status
    if settings is not None:
        account.settings = {**account.settings, **settings}
        changed["settings"] = sorted(settings)
    if status is not None and status != account.status:
        account.status = str(status)
        changed["status"] = account.status
    if changed:
        audit(
            session,
            actor,
            "channel_account.updated",
            "channel_account",
            account.id,
            account.workspace_id,
            changed,
        )
    return account


def store_refreshed_secrets(
    session: Session, account: ChannelAccount, secrets: dict[str, str]
) -> None:
    """Keep tokens a network handed out on refresh (Bluesky sessions, X OAuth 2), so a
    restart or another process resumes them instead of logging in again. Merged into the
    encrypted secrets; the audit entry names the secrets, never their values."""
    merged = {**decrypt_secrets(account.secrets_encrypted), **secrets}
    account.secrets_encrypted = encrypt_secrets(merged)
    audit(
        session,
        None,
        "channel_account.secrets_refreshed",
        "channel_account",
        account.id,
        account.workspace_id,
        {"secret_names": sorted(secrets)},
    )


def secrets_saver(db: Database) -> Callable[[int, dict[str, str]], None]:
    """``store_refreshed_secrets`` for connectors, which know an account only by id."""

    def save(account_id: int, secrets: dict[str, str]) -> None:
        with db.write() as session:
            account = session.get(ChannelAccount, account_id)
            if account is not None:
                store_refreshed_secrets(session, account, secrets)

    return save


def secrets_loader(db: Database) -> Callable[[int], dict[str, str]]:
    """An account's secrets as stored now, for connectors that must see what another
    process stored a moment ago (a rotated token); empty for an unknown account."""

    def load(account_id: int) -> dict[str, str]:
        with db.session() as session:
            account = session.get(ChannelAccount, account_id)
            return decrypt_secrets(account.secrets_encrypted) if account is not None else {}

    return load


def delete_channel_account(session: Session, actor: User | None, account: ChannelAccount) -> None:
    require_role(actor, ADMINS, "only admins delete channel accounts")
    audit(
        session,
        actor,
        "channel_account.deleted",
        "channel_account",
        account.id,
        account.workspace_id,
        {"platform": account.platform, "handle": account.handle},
    )
    session.delete(account)


def _other_active_admins(session: Session, user: User) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == str(Role.ADMIN), User.is_active.is_(True), User.id != user.id)
        )
        or 0
    )


def change_role(session: Session, actor: User | None, user: User, role: Role) -> User:
    """Give ``user`` another role; the last active admin keeps theirs (nobody could undo it)."""
    require_role(actor, ADMINS, _USERS_REFUSED)
    if str(role) == user.role:
        return user
    if user.role == Role.ADMIN and user.is_active and not _other_active_admins(session, user):
        raise ActionError("the last active admin cannot lose the admin role", 409)
    before, user.role = user.role, str(role)
    audit_user(session, actor, "user.role_changed", user, {"from": before, "to": user.role})
    return user


def open_ticket_ids(session: Session, user: User) -> list[int]:
    return list(
        session.scalars(
            select(Ticket.id)
            .where(Ticket.assignee_id == user.id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id)
        )
    )


def unassign_open_tickets(session: Session, actor: User, user: User) -> list[int]:
    """Put every unsolved ticket of ``user`` back to unassigned (its team stays), so a
    deactivated agent's tickets show up in the Unassigned view instead of getting lost."""
    ids = open_ticket_ids(session, user)
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)):
        assign(session, ticket, actor, None)
    return ids


def set_user_active(
    session: Session, actor: User, user: User, active: bool, *, unassign: bool = False
) -> list[int]:
    """Deactivate (sessions end at once, sign-in refused) or reactivate a user.

    With ``unassign`` the user's unsolved tickets go back to unassigned; returns their ids.
    """
    require_role(actor, ADMINS, _USERS_REFUSED)
    if not active and user.id == actor.id:
        raise ActionError("you cannot deactivate yourself", 409)
    if not active and user.role == Role.ADMIN and not _other_active_admins(session, user):
        raise ActionError("the last active admin cannot be deactivated", 409)
    moved: list[int] = []
    if user.is_active != active:
        user.is_active = active
        if not active:
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        audit_user(
            session,
            actor,
            "user.activated" if active else "user.deactivated",
            user,
            {"email": user.email},
        )
    if unassign:
        moved = unassign_open_tickets(session, actor, user)
    return moved

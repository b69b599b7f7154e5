"""The live check of a channel account's credentials: ask the network whom they belong
to, then record what it said.

Connecting an account used to store whatever token was pasted; a wrong or expired one
showed only at the first failed send, hours later. The check makes one cheap read on the
network (the descriptor's ``credential_check``) and says plainly what came back:

- ``confirmed``: the network accepted the credentials and they belong to this account;
- ``mismatch``: accepted, but they belong to another account (a Page token pasted for the
  wrong Page, the agency's own X login): nothing could be answered as this account;
- ``refused``: the network rejected them; the account needs re-authorization;
- ``unreachable``: no answer (timeout, 5xx, rate limit); nothing is concluded;
- ``unsupported``: the network has nothing to check (the web form) or no credentials
  were given.

As for hiding, the network is asked with no transaction open; the outcome is stored in
one write with its audit entry (never the credential itself).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.channels.accounts import account_ref
from socialdesk.channels.base import AccountRef, Identity, SendError, SendFailure
from socialdesk.channels.descriptor import Absent
from socialdesk.channels.networks import find_descriptor
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.domain.enums import AccountStatus
from socialdesk.store.db import Database, utcnow
from socialdesk.store.models import ChannelAccount, User

CHECK_TIMEOUT_SECONDS = 20.0
MANAGERS = ("admin", "lead")
REFUSED_FAILURES = (SendFailure.AUTH_REVOKED, SendFailure.PERMANENT)


@dataclass(frozen=True, slots=True)
class CredentialCheckResult:
    account_id: int
    state: str
    message: str
    checked_at: datetime
    identity: Identity | None = None

    @property
    def ok(self) -> bool:
        return self.state == "confirmed"

    def as_record(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "message": self.message,
            "checked_at": self.checked_at.isoformat(),
            "identity": None
            if self.identity is None
            else {
                "external_id": self.identity.external_id,
                "handle": self.identity.handle,
                "name": self.identity.name,
            },
        }


def same_account(identity: Identity, external_id: str, handle: str) -> bool:
    """Whether the network's answer names the stored account: by id, or by handle when
    the network answers with no id (case and a leading @ do not matter)."""
    if identity.external_id:
        return identity.external_id == external_id
    return identity.handle.lower().lstrip("@") == handle.lower().lstrip("@")


def describe(state: str, label: str, handle: str, identity: Identity | None, reason: str) -> str:
    """The sentence the page and the API show for one outcome."""
    if state == "confirmed" and identity is not None:
        shown = f"@{identity.handle}" if identity.handle else identity.external_id
        return f"{label} confirms the credentials belong to {shown} (id {identity.external_id})."
    if state == "mismatch" and identity is not None:
        return (
            f"{label} accepted the credentials, but they belong to @{identity.handle} "
            f"(id {identity.external_id}), not @{handle}. Paste the credentials of @{handle}."
        )
    if state == "refused":
        return f"{label} refused the credentials: {reason}. Re-authorize with a new one."
    if state == "unreachable":
        return f"{label} could not be reached to check the credentials: {reason}. Try again later."
    return reason


def _outcome(
    label: str, ref: AccountRef, identity: Identity | None, error: SendError | None
) -> tuple[str, str]:
    if error is not None:
        state = "refused" if error.failure in REFUSED_FAILURES else "unreachable"
        return state, describe(state, label, ref.handle, None, error.reason)
    assert identity is not None
    state = "confirmed" if same_account(identity, ref.external_id, ref.handle) else "mismatch"
    return state, describe(state, label, ref.handle, identity, "")


async def check_channel_credentials(
    db: Database, registry: ConnectorRegistry, actor_id: int, account_id: int
) -> CredentialCheckResult:
    """Ask the account's network whom its credentials belong to and record the answer.
    ActionError 404/403 for an account the actor may not manage."""
    with db.session() as session:
        actor = session.get(User, actor_id)
        require_role(actor, MANAGERS, "only admins and leads check channel credentials")
        account = session.get(ChannelAccount, account_id)
        if account is None:
            raise ActionError(f"channel account {account_id} not found", 404)
        ref = account_ref(account)
    descriptor = find_descriptor(ref.platform)
    label = descriptor.label if descriptor is not None else str(ref.platform)
    identity: Identity | None = None
    error: SendError | None = None
    if descriptor is None or isinstance(descriptor.credential_check, Absent):
        state, message = "unsupported", f"{label} has no credentials to check."
    elif not ref.secrets:
        state, message = "unsupported", "No credentials are stored yet: nothing to check."
    else:
        connector = registry.for_account(ref)
        try:
            if connector is None:
                raise SendError(SendFailure.PERMANENT, f"no connector for {label}")
            identity = await asyncio.wait_for(
                descriptor.credential_check(connector, ref), CHECK_TIMEOUT_SECONDS
            )
        except TimeoutError:
            error = SendError(SendFailure.RETRYABLE, f"no answer in {CHECK_TIMEOUT_SECONDS:.0f} s")
        except SendError as exc:
            error = exc
        state, message = _outcome(label, ref, identity, error)
    result = CredentialCheckResult(account_id, state, message, utcnow(), identity)
    _record(db, actor_id, result)
    return result


def _record(db: Database, actor_id: int, result: CredentialCheckResult) -> None:
    with db.write() as session:
        account = session.get(ChannelAccount, result.account_id)
        if account is None:  # deleted while the network was asked
            return
        account.credential_check = result.as_record()
        if result.state == "refused":
            account.status = str(AccountStatus.NEEDS_REAUTH)
            account.status_reason = result.message
        elif result.ok and account.status == AccountStatus.NEEDS_REAUTH:
            account.status = str(AccountStatus.ACTIVE)
            account.status_reason = None
        audit(
            session,
            session.get(User, actor_id),
            "channel_account.credentials_checked",
            "channel_account",
            account.id,
            account.workspace_id,
            {k: v for k, v in result.as_record().items() if k != "message"},
        )

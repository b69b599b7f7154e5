"""Find or create the contact behind each author, one network identity at a time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from socialdesk.domain.messages import Author
from socialdesk.store.bulk import insert_with_ids
from socialdesk.store.db import utcnow
from socialdesk.store.models import Contact, ContactIdentity
from socialdesk.store.models.base import table_of

IdentityKey = tuple[int, str, str]  # (workspace_id, platform, external_user_id)

_contacts = table_of(Contact)
_identities = table_of(ContactIdentity)
CHUNK = 500


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def resolve_contacts(
    conn: Connection, authors: dict[IdentityKey, Author]
) -> dict[IdentityKey, int]:
    """Map every identity to its contact id, creating contacts for new people and
    refreshing handle, name and reach when the network reports new values."""
    found: dict[IdentityKey, int] = {}
    stale: list[dict[str, Any]] = []
    by_scope: dict[tuple[int, str], list[str]] = {}
    for workspace_id, platform, user_id in authors:
        by_scope.setdefault((workspace_id, platform), []).append(user_id)
    for (workspace_id, platform), user_ids in by_scope.items():
        for part in chunks(user_ids):
            rows = conn.execute(
                select(
                    _identities.c.id,
                    _identities.c.contact_id,
                    _identities.c.external_user_id,
                    _identities.c.handle,
                    _identities.c.display_name,
                    _identities.c.follower_count,
                ).where(
                    _identities.c.workspace_id == workspace_id,
                    _identities.c.platform == platform,
                    _identities.c.external_user_id.in_(part),
                )
            )
            for row in rows:
                key = (workspace_id, platform, row.external_user_id)
                found[key] = row.contact_id
                author = authors[key]
                fresh = (
                    author.handle or row.handle,
                    author.display_name or row.display_name,
                    author.follower_count
                    if author.follower_count is not None
                    else row.follower_count,
                )
                if fresh != (row.handle, row.display_name, row.follower_count):
                    stale.append(
                        {
                            "b_id": row.id,
                            "handle": fresh[0],
                            "display_name": fresh[1],
                            "follower_count": fresh[2],
                        }
                    )
    if stale:
        conn.execute(
            update(_identities)
            .where(_identities.c.id == bindparam("b_id"))
            .values(
                handle=bindparam("handle"),
                display_name=bindparam("display_name"),
                follower_count=bindparam("follower_count"),
            ),
            stale,
        )
    missing = [key for key in authors if key not in found]
    if missing:
        found.update(_create_identities(conn, authors, missing))
    return found


def _email_of(author: Author) -> str | None:
    email = (author.email or "").strip().lower()
    return email if "@" in email else None


def _contacts_by_email(
    conn: Connection, scopes: set[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The oldest unmerged contact per ``(workspace_id, lower-cased e-mail)``."""
    found: dict[tuple[int, str], int] = {}
    workspaces = sorted({workspace_id for workspace_id, _ in scopes})
    emails = sorted({email for _, email in scopes})
    lowered = func.lower(_contacts.c.email)
    for part in chunks(emails):
        rows = conn.execute(
            select(_contacts.c.id, _contacts.c.workspace_id, lowered.label("email"))
            .where(
                _contacts.c.workspace_id.in_(workspaces),
                lowered.in_(part),
                _contacts.c.merged_into_id.is_(None),
            )
            .order_by(_contacts.c.id)
        )
        for row in rows:
            found.setdefault((row.workspace_id, row.email), row.id)
    return {scope: contact_id for scope, contact_id in found.items() if scope in scopes}


def _create_identities(
    conn: Connection, authors: dict[IdentityKey, Author], missing: list[IdentityKey]
) -> dict[IdentityKey, int]:
    """Identities for new authors. One whose e-mail address a contact of the workspace
    already has joins that contact (a web-form sender who later writes an e-mail is one
    person); new identities sharing an address in one batch share one new contact."""
    email_scopes = {
        (key[0], email) for key in missing if (email := _email_of(authors[key])) is not None
    }
    by_email = _contacts_by_email(conn, email_scopes) if email_scopes else {}
    contact_of: dict[IdentityKey, int] = {}
    creators: list[IdentityKey] = []
    creator_of_scope: dict[tuple[int, str], IdentityKey] = {}
    sharers: dict[IdentityKey, IdentityKey] = {}
    for key in missing:
        email = _email_of(authors[key])
        scope = (key[0], email) if email else None
        if scope is not None and scope in by_email:
            contact_of[key] = by_email[scope]
        elif scope is not None and scope in creator_of_scope:
            sharers[key] = creator_of_scope[scope]
        else:
            creators.append(key)
            if scope is not None:
                creator_of_scope[scope] = key
    now = utcnow()
    if creators:
        contact_rows: list[dict[str, Any]] = [
            {
                "workspace_id": key[0],
                "display_name": authors[key].display_name or authors[key].handle or key[2],
                "email": authors[key].email,
                "vip": False,
                "attributes": {},
                "created_at": now,
            }
            for key in creators
        ]
        ids = insert_with_ids(conn, _contacts, contact_rows)
        contact_of.update(zip(creators, ids, strict=True))
    for key, creator in sharers.items():
        contact_of[key] = contact_of[creator]
    conn.execute(
        insert(_identities),
        [
            {
                "workspace_id": key[0],
                "contact_id": contact_of[key],
                "platform": key[1],
                "external_user_id": key[2],
                "handle": authors[key].handle,
                "display_name": authors[key].display_name,
                "follower_count": authors[key].follower_count,
                "created_at": now,
            }
            for key in missing
        ],
    )
    return {key: contact_of[key] for key in missing}

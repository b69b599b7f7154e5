"""Find or create the contact behind each author, one network identity at a time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

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
        now = utcnow()
        contact_rows: list[dict[str, Any]] = [
            {
                "workspace_id": key[0],
                "display_name": authors[key].display_name or authors[key].handle or key[2],
                "email": authors[key].email,
                "vip": False,
                "attributes": {},
                "created_at": now,
            }
            for key in missing
        ]
        ids = insert_with_ids(conn, _contacts, contact_rows)
        conn.execute(
            insert(_identities),
            [
                {
                    "workspace_id": key[0],
                    "contact_id": contact_id,
                    "platform": key[1],
                    "external_user_id": key[2],
                    "handle": authors[key].handle,
                    "display_name": authors[key].display_name,
                    "follower_count": authors[key].follower_count,
                    "created_at": now,
                }
                for key, contact_id in zip(missing, ids, strict=True)
            ],
        )
        found.update(zip(missing, ids, strict=True))
    return found

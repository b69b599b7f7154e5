"""Read queries about a workspace's people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.domain.enums import Role
from socialdesk.store.models import Membership, User

# Who hears what the desk as a whole says (the daily digest, a crisis radar incident).
LEADS_AND_MARKETING = (str(Role.LEAD), str(Role.MARKETING))


def leads_and_marketing(session: Session, workspace_id: int) -> list[str]:
    """The e-mail addresses of the workspace's active leads and marketing users."""
    return list(
        session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.workspace_id == workspace_id,
                User.is_active.is_(True),
                User.role.in_(LEADS_AND_MARKETING),
            )
            .order_by(User.email)
        )
    )

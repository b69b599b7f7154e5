"""@mentions in internal notes: each mentioned workspace user gets an in-app notification.

``@ana`` matches a user's first name, their name without spaces, or the part of their
e-mail before the ``@``; ``@ana@example.com`` matches the full address; ``@team-name``
(the team's name as a slug: lower case, runs of other characters as one ``-``) notifies
every active member of that team. Case does not matter; each user is notified once per
note even when named and in a mentioned team; the author is not notified.
"""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from socialdesk.actions.recording import audit
from socialdesk.store.db import utcnow
from socialdesk.store.models import (
    Membership,
    Message,
    Notification,
    Team,
    TeamMember,
    Ticket,
    User,
)

# "@word" or "@local@domain.tld", not preceded by a word character (so e-mail
# addresses written in the note text do not count as mentions of their local part).
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
EXCERPT = 200


def mentioned_keys(body: str) -> set[str]:
    return {m.rstrip(".").lower() for m in MENTION.findall(body)}


def team_slug(name: str) -> str:
    """ "Billing & Refunds" -> "billing-refunds"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _team_members(session: Session, workspace_id: int, wanted: set[str]) -> dict[int, list[str]]:
    """Users in the mentioned teams of the workspace: user id -> team names."""
    teams = {
        team.id: team.name
        for team in session.scalars(select(Team).where(Team.workspace_id == workspace_id))
        if team_slug(team.name) in wanted
    }
    members: dict[int, list[str]] = {}
    if teams:
        for team_id, user_id in session.execute(
            select(TeamMember.team_id, TeamMember.user_id).where(
                TeamMember.team_id.in_(sorted(teams))
            )
        ):
            members.setdefault(user_id, []).append(teams[team_id])
    return members


def _keys_of(user: User) -> set[str]:
    email = user.email.lower()
    keys = {email, email.split("@", 1)[0]}
    name = (user.name or "").strip().lower()
    if name:
        keys.add(name.replace(" ", ""))
        keys.add(name.split()[0])
    return keys


def notify_mentions(session: Session, ticket: Ticket, actor: User, note: Message) -> list[int]:
    """Create one ``mention`` notification per user mentioned in the note; their ids."""
    wanted = mentioned_keys(note.body)
    if not wanted:
        return []
    members = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == ticket.workspace_id, User.is_active.is_(True))
    ).all()
    by_team = _team_members(session, ticket.workspace_id, wanted)
    notified: list[int] = []
    for user in members:
        named = bool(_keys_of(user) & wanted)
        if user.id == actor.id or user.id in notified or not (named or user.id in by_team):
            continue
        session.add(
            Notification(
                workspace_id=ticket.workspace_id,
                user_id=user.id,
                ticket_id=ticket.id,
                kind="mention",
                body=note.body[:EXCERPT],
                data={
                    "message_id": note.id,
                    "by": actor.name or actor.email,
                    **({"teams": by_team[user.id]} if user.id in by_team else {}),
                },
            )
        )
        notified.append(user.id)
    if notified:
        audit(
            session, actor, "ticket.mentioned", "ticket", ticket.id, ticket.workspace_id,
            {"message_id": note.id, "user_ids": notified},
        )  # fmt: skip
    return notified


def mark_read(session: Session, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (all, or the given ones) read; how many."""
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(notification_ids))
    return int(session.execute(query.values(read_at=utcnow())).rowcount or 0)  # type: ignore[attr-defined]

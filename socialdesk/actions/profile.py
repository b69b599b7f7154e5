"""A person's own preferences (the time zone they see times in)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from socialdesk.actions.credentials import audit_everywhere
from socialdesk.actions.recording import ActionError
from socialdesk.domain.time_zones import zone_problem
from socialdesk.store.models import User


def set_time_zone(session: Session, user: User, time_zone: str) -> None:
    """Set the zone the pages show ``user`` times in and read their "Send at" in."""
    name = time_zone.strip()
    problem = zone_problem(name)
    if problem:
        raise ActionError(problem, 422)
    before = user.time_zone
    user.time_zone = name
    audit_everywhere(
        session, user, user, "user.time_zone", "user", user.id, {"from": before, "to": name}
    )

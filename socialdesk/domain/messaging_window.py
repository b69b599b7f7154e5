"""Meta's messaging window: may we send a free-form DM to this customer now, and how?

Messenger and Instagram DMs can be answered freely for 24 hours after the customer's
last message. Between 24 hours and 7 days only a reply typed by a human may go out, as
``MESSAGE_TAG`` with the ``HUMAN_AGENT`` tag (the app needs the Human Agent permission).
After that, or for an automated reply past 24 hours, Meta refuses the send with code 10
/ subcode 2018278, and retrying never helps, so the desk must offer another route.

Peers got this wrong both ways: stamping ``HUMAN_AGENT`` on bot replies and on replies
well inside the 24 hours, and force-tagging with retired tags. Inside the 24 hours this
module therefore returns no tag at all.

Both window edges are exclusive: a reply at exactly 24 hours (or 7 days) after the last
inbound message already falls in the next, stricter band, because Meta's clock and ours
are not the same clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from socialdesk.domain.enums import Platform, Visibility

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)

MESSAGING_TYPE_RESPONSE = "RESPONSE"
MESSAGING_TYPE_MESSAGE_TAG = "MESSAGE_TAG"
HUMAN_AGENT_TAG = "HUMAN_AGENT"


class SendDecision(StrEnum):
    ALLOWED = "allowed"
    HUMAN_AGENT_ONLY = "human_agent_only"
    NOT_ALLOWED = "not_allowed"


class Alternative(StrEnum):
    """Another way to reach the customer when the DM window is closed."""

    HUMAN_REPLY = "human_reply"  # a person can still answer with the HUMAN_AGENT tag
    EMAIL = "email"
    PUBLIC_REPLY = "public_reply"  # answer in public, asking them to write in again


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """What the send path should do. ``messaging_type`` and ``tag`` are the values to put
    on the Graph API send (None: leave the field out). ``window_closes_at`` is when the
    path relied on stops working; for a refused send, when the last path closed."""

    decision: SendDecision
    messaging_type: str | None
    tag: str | None
    window_closes_at: datetime | None
    alternatives: tuple[Alternative, ...] = ()
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision != SendDecision.NOT_ALLOWED


def is_windowed(platform: Platform, visibility: Visibility = Visibility.PRIVATE) -> bool:
    """Whether the 24-hour rule applies: Messenger, and Instagram DMs (not comments).

    A private message from a Page connected as ``facebook`` is a Messenger message too:
    Meta's window does not care which name the account was connected under."""
    if platform == Platform.MESSENGER:
        return True
    return platform in (Platform.INSTAGRAM, Platform.FACEBOOK) and visibility == Visibility.PRIVATE


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")


def decide_messaging_window(
    platform: Platform,
    last_inbound_at: datetime | None,
    now: datetime,
    *,
    human_typed: bool = False,
    has_human_agent_permission: bool = True,
    customer_email: str | None = None,
    visibility: Visibility = Visibility.PRIVATE,
) -> WindowDecision:
    """Decide whether a free-form DM may be sent to the customer now.

    ``last_inbound_at`` is the time of the customer's latest message in the
    conversation (None if they never wrote). ``human_typed`` must be True only for text
    an agent wrote; it defaults to False so that automation never gets the human tag by
    accident. Raises ValueError for naive datetimes.
    """
    _require_aware("now", now)
    if last_inbound_at is not None:
        _require_aware("last_inbound_at", last_inbound_at)

    if not is_windowed(platform, visibility):
        return WindowDecision(
            SendDecision.ALLOWED, None, None, None, reason="no messaging window on this channel"
        )

    fallback = (Alternative.EMAIL,) if customer_email else (Alternative.PUBLIC_REPLY,)
    if last_inbound_at is None:
        return WindowDecision(
            SendDecision.NOT_ALLOWED, None, None, None, fallback,
            reason="the customer has not messaged us, so no window is open",
        )  # fmt: skip

    last = last_inbound_at.astimezone(UTC)
    standard_closes = last + STANDARD_WINDOW
    human_closes = last + HUMAN_AGENT_WINDOW
    now = now.astimezone(UTC)

    if now < standard_closes:
        return WindowDecision(
            SendDecision.ALLOWED, MESSAGING_TYPE_RESPONSE, None, standard_closes,
            reason="within 24 hours of the customer's last message",
        )  # fmt: skip

    if now < human_closes:
        if not has_human_agent_permission:
            return WindowDecision(
                SendDecision.NOT_ALLOWED, None, None, standard_closes, fallback,
                reason="past 24 hours and the app lacks the Human Agent permission",
            )  # fmt: skip
        if not human_typed:
            return WindowDecision(
                SendDecision.NOT_ALLOWED, None, None, standard_closes,
                (Alternative.HUMAN_REPLY, *fallback),
                reason="past 24 hours: only a reply typed by a person may be sent",
            )  # fmt: skip
        return WindowDecision(
            SendDecision.HUMAN_AGENT_ONLY, MESSAGING_TYPE_MESSAGE_TAG, HUMAN_AGENT_TAG,
            human_closes,
            reason="past 24 hours, within 7 days: human reply with the HUMAN_AGENT tag",
        )  # fmt: skip

    return WindowDecision(
        SendDecision.NOT_ALLOWED, None, None, human_closes, fallback,
        reason="more than 7 days since the customer's last message",
    )  # fmt: skip

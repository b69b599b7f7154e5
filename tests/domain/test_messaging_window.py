from datetime import UTC, datetime, timedelta, timezone

import pytest

from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.messaging_window import (
    Alternative,
    SendDecision,
    decide_messaging_window,
    is_windowed,
)

LAST = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# A Page connected as "facebook" sends its private messages through Messenger.
@pytest.mark.parametrize("platform", [Platform.MESSENGER, Platform.INSTAGRAM, Platform.FACEBOOK])
@pytest.mark.parametrize(
    ("age", "decision", "messaging_type", "tag", "closes_at"),
    [
        (timedelta(0), SendDecision.ALLOWED, "RESPONSE", None, LAST + timedelta(hours=24)),
        (timedelta(hours=23, minutes=59, seconds=59), SendDecision.ALLOWED, "RESPONSE", None, LAST + timedelta(hours=24)),  # noqa: E501
        (timedelta(hours=24), SendDecision.HUMAN_AGENT_ONLY, "MESSAGE_TAG", "HUMAN_AGENT", LAST + timedelta(days=7)),  # noqa: E501
        (timedelta(days=3), SendDecision.HUMAN_AGENT_ONLY, "MESSAGE_TAG", "HUMAN_AGENT", LAST + timedelta(days=7)),  # noqa: E501
        (timedelta(days=7) - timedelta(microseconds=1), SendDecision.HUMAN_AGENT_ONLY, "MESSAGE_TAG", "HUMAN_AGENT", LAST + timedelta(days=7)),  # noqa: E501
        (timedelta(days=7), SendDecision.NOT_ALLOWED, None, None, LAST + timedelta(days=7)),
        (timedelta(days=30), SendDecision.NOT_ALLOWED, None, None, LAST + timedelta(days=7)),
        # Customer clock ahead of ours: still inside the window.
        (-timedelta(minutes=5), SendDecision.ALLOWED, "RESPONSE", None, LAST + timedelta(hours=24)),
    ],
)  # fmt: skip
def test_window_bands_for_a_human_reply(
    platform: Platform,
    age: timedelta,
    decision: SendDecision,
    messaging_type: str | None,
    tag: str | None,
    closes_at: datetime,
) -> None:
    result = decide_messaging_window(platform, LAST, LAST + age, human_typed=True)
    assert result.decision == decision
    assert result.messaging_type == messaging_type
    assert result.tag == tag
    assert result.window_closes_at == closes_at
    assert result.allowed is (decision != SendDecision.NOT_ALLOWED)


@pytest.mark.parametrize(
    ("human_typed", "permission", "email", "alternatives"),
    [
        (False, True, None, (Alternative.HUMAN_REPLY, Alternative.PUBLIC_REPLY)),
        (False, True, "c@example.com", (Alternative.HUMAN_REPLY, Alternative.EMAIL)),
        (True, False, None, (Alternative.PUBLIC_REPLY,)),
        (True, False, "c@example.com", (Alternative.EMAIL,)),
    ],
)
def test_after_24h_only_permitted_humans_may_send(
    human_typed: bool, permission: bool, email: str | None, alternatives: tuple[Alternative, ...]
) -> None:
    result = decide_messaging_window(
        Platform.MESSENGER,
        LAST,
        LAST + timedelta(days=2),
        human_typed=human_typed,
        has_human_agent_permission=permission,
        customer_email=email,
    )
    assert result.decision == SendDecision.NOT_ALLOWED
    assert result.tag is None and result.messaging_type is None
    assert result.alternatives == alternatives
    assert result.window_closes_at == LAST + timedelta(hours=24)


@pytest.mark.parametrize(
    ("email", "alternatives"),
    [(None, (Alternative.PUBLIC_REPLY,)), ("c@example.com", (Alternative.EMAIL,))],
)
def test_closed_window_suggests_email_else_public_reply(
    email: str | None, alternatives: tuple[Alternative, ...]
) -> None:
    result = decide_messaging_window(
        Platform.INSTAGRAM, LAST, LAST + timedelta(days=8), human_typed=True, customer_email=email
    )
    assert result.decision == SendDecision.NOT_ALLOWED
    assert result.alternatives == alternatives


def test_bot_reply_inside_24h_gets_no_human_agent_tag() -> None:
    result = decide_messaging_window(Platform.MESSENGER, LAST, LAST + timedelta(hours=1))
    assert (result.decision, result.messaging_type, result.tag) == (
        SendDecision.ALLOWED,
        "RESPONSE",
        None,
    )


def test_no_inbound_message_means_no_window() -> None:
    result = decide_messaging_window(Platform.MESSENGER, None, LAST, human_typed=True)
    assert result.decision == SendDecision.NOT_ALLOWED
    assert result.alternatives == (Alternative.PUBLIC_REPLY,)


@pytest.mark.parametrize(
    ("platform", "visibility"),
    [
        (Platform.X, Visibility.PRIVATE),
        (Platform.FACEBOOK, Visibility.PUBLIC),
        (Platform.MASTODON, Visibility.PRIVATE),
        (Platform.BLUESKY, Visibility.PRIVATE),
        (Platform.EMAIL, Visibility.PRIVATE),
        (Platform.WEB, Visibility.PRIVATE),
        (Platform.INSTAGRAM, Visibility.PUBLIC),  # comment replies have no window
    ],
)
def test_other_channels_are_always_allowed(platform: Platform, visibility: Visibility) -> None:
    result = decide_messaging_window(
        platform, LAST, LAST + timedelta(days=365), visibility=visibility
    )
    assert (result.decision, result.messaging_type, result.tag, result.window_closes_at) == (
        SendDecision.ALLOWED,
        None,
        None,
        None,
    )
    assert not is_windowed(platform, visibility)


@pytest.mark.parametrize(
    ("last", "now"),
    [
        (datetime(2026, 3, 1, 12, 0), LAST),
        (LAST, datetime(2026, 3, 1, 13, 0)),
        (None, datetime(2026, 3, 1, 13, 0)),
    ],
)
def test_naive_datetimes_are_rejected(last: datetime | None, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide_messaging_window(Platform.MESSENGER, last, now)


def test_non_utc_aware_datetimes_are_compared_correctly_and_answered_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    last = datetime(2026, 3, 1, 13, 0, tzinfo=paris)  # 12:00 UTC
    result = decide_messaging_window(Platform.MESSENGER, last, LAST + timedelta(hours=23))
    assert result.decision == SendDecision.ALLOWED
    assert result.window_closes_at == LAST + timedelta(hours=24)
    assert result.window_closes_at is not None and result.window_closes_at.tzinfo == UTC

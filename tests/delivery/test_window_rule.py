from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.channels.base import OutboundRequest, ReplyKind
from socialdesk.delivery.compose import check_window, thread_parts
from socialdesk.domain.enums import Platform

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DM = OutboundRequest(
    kind=ReplyKind.DIRECT_MESSAGE, body="Hi", idempotency_key="k", recipient_id="psid"
)


@pytest.mark.parametrize(
    ("platform", "kind", "hours_since", "human", "expect"),
    [
        (Platform.MESSENGER, ReplyKind.DIRECT_MESSAGE, 2, True, "plain"),
        (Platform.MESSENGER, ReplyKind.DIRECT_MESSAGE, 30, True, "tagged"),
        (
            Platform.MESSENGER,
            ReplyKind.DIRECT_MESSAGE,
            30,
            False,
            "refused",
        ),  # bots never get the tag
        (Platform.MESSENGER, ReplyKind.DIRECT_MESSAGE, 24 * 8, True, "refused"),
        (Platform.INSTAGRAM, ReplyKind.DIRECT_MESSAGE, 30, True, "tagged"),
        # A Page connected as "facebook": its DMs are Messenger's, window and all.
        (Platform.FACEBOOK, ReplyKind.DIRECT_MESSAGE, 30, True, "tagged"),
        (Platform.FACEBOOK, ReplyKind.DIRECT_MESSAGE, 24 * 8, True, "refused"),
        (
            Platform.FACEBOOK,
            ReplyKind.PUBLIC_REPLY,
            24 * 30,
            True,
            "plain",
        ),  # comments have no window
        (Platform.X, ReplyKind.DIRECT_MESSAGE, 24 * 30, True, "plain"),
    ],
)
def test_messaging_window_decides_tag_or_refusal(
    platform: Platform, kind: ReplyKind, hours_since: float, human: bool, expect: str
) -> None:
    request = OutboundRequest(kind=kind, body="Hi", idempotency_key="k", in_reply_to_id="c1")
    outcome = check_window(
        platform,
        request,
        NOW - timedelta(hours=hours_since),
        NOW,
        human_typed=human,
        customer_email="ana@example.com",
    )
    if expect == "refused":
        assert isinstance(outcome, str) and "messaging window" in outcome
        assert "email" in outcome  # the customer's e-mail is offered as the way out
    else:
        assert isinstance(outcome, OutboundRequest)
        assert outcome.human_agent_tag is (expect == "tagged")


@pytest.mark.parametrize(
    ("platform", "kind", "length", "prefix", "expect"),
    [
        (Platform.X, ReplyKind.PUBLIC_REPLY, 100, "", 1),
        (Platform.X, ReplyKind.PUBLIC_REPLY, 700, "", 3),
        (Platform.MASTODON, ReplyKind.PUBLIC_REPLY, 1200, "", 3),
        # Mastodon's "@acct " before the text: 498 fits alone, not with "@bob " in front.
        (Platform.MASTODON, ReplyKind.PUBLIC_REPLY, 498, "", 1),
        (Platform.MASTODON, ReplyKind.PUBLIC_REPLY, 498, "@bob@other.social ", 2),
        (Platform.MASTODON, ReplyKind.PUBLIC_REPLY, 495, "@bob@other.social ", 1),
        (
            Platform.MASTODON,
            ReplyKind.DIRECT_MESSAGE,
            498,
            "@bob@other.social ",
            "leaving room for @bob@other.social",
        ),
        (Platform.MESSENGER, ReplyKind.DIRECT_MESSAGE, 2500, "", "too long"),
        (Platform.FACEBOOK, ReplyKind.PUBLIC_REPLY, 2500, "", 1),
        (Platform.EMAIL, ReplyKind.EMAIL, 50_000, "", 1),
    ],
)
def test_thread_parts(
    platform: Platform, kind: ReplyKind, length: int, prefix: str, expect: int | str
) -> None:
    words = ("word " * length)[:length]
    request = OutboundRequest(kind=kind, body=words, idempotency_key="k")
    outcome = thread_parts(platform, request, prefix=prefix)
    if isinstance(expect, str):
        assert isinstance(outcome, str) and expect in outcome
    else:
        assert isinstance(outcome, list) and len(outcome) == expect

"""The pure peer-answer judgement, one row per case (triage/peer_answers.py)."""

from __future__ import annotations

import pytest

from socialdesk.triage import triage
from socialdesk.triage.peer_answers import asks, content_words, judge

QUESTION = "@AirDesk my flight was cancelled, how do I rebook without paying again?"

CASES = [
    # (reply, is an answer?)
    ("@sam you can rebook free in the app under My Trips, did it yesterday", True),
    ("@sam go to Manage booking and click rebook, worked for me", True),
    ("@sam try calling them, the rebook line is faster https://example.com/rebook", True),
    ("@sam have you tried the app? rebooking there worked for me", True),
    ("@sam me too, same problem!!", False),
    ("@sam same here, any update?", False),
    ("@sam thanks for sharing", False),
    ("@sam lol", False),
    ("@sam my flight was cancelled too, why does this keep happening?", False),
    ("@sam follow me for free followers, click here", False),
    ("@sam rebook flight cancelled paying", False),  # overlap alone is not an answer
    ("", False),
]


@pytest.mark.parametrize(("reply", "expected"), CASES)
def test_judge(reply: str, expected: bool) -> None:
    verdict = judge(QUESTION, reply, triage(reply).intent if reply else None)
    assert verdict.is_answer is expected, verdict
    assert 0.0 <= verdict.score <= 1.0


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("How do I reset my password?", "question", True),
        ("My bag never arrived", "complaint", True),
        ("Please send me the invoice", "request", True),
        ("Love this airline", "praise", False),
        ("Is it raining", "other", False),
        ("Anyone else?", "other", True),
    ],
)
def test_asks(text: str, intent: str, expected: bool) -> None:
    assert asks(text, intent) is expected


def test_content_words_drop_stop_words_and_plurals() -> None:
    assert content_words("@bob How do I get my refunds for flights?") == {"refund", "flight"}


def test_reasons_name_the_evidence() -> None:
    verdict = judge(QUESTION, "@sam go to Manage booking and rebook, worked for me", "other")
    assert "tells_how" in verdict.reasons and "worked_for_them" in verdict.reasons
    assert any(r.startswith("shares:") and "rebook" in r for r in verdict.reasons)

"""The inline triage pass, table-driven: what a desk needs from a post's words."""

from __future__ import annotations

import time

import pytest

from socialdesk.triage import Context, triage
from socialdesk.triage.rules import detect_topic
from socialdesk.triage.text import clean


@pytest.mark.parametrize(
    ("text", "sentiment", "intent"),
    [
        ("I lost my photos!!", "negative", "complaint"),
        ("My bag never arrived and nobody answers", "negative", "complaint"),
        ("@united thanks so much!", "positive", "thanks"),
        ("Love the new update, great job @Apple", "positive", "praise"),
        ("How do I change my password?", None, "question"),
        ("Where is my package?", None, "question"),
        ("Why is my flight cancelled AGAIN?? worst airline ever", "negative", "complaint"),
        ("follow me for a crypto giveaway", None, "spam"),
        ("You should add a dark mode", None, "feedback"),
        ("Can you please send me a copy of my invoice", None, "request"),
    ],
)
def test_sentiment_and_intent(text: str, sentiment: str | None, intent: str) -> None:
    result = triage(text)
    assert result.intent == intent
    if sentiment is not None:
        assert result.sentiment == sentiment


def test_handles_and_links_are_not_scored_as_words() -> None:
    assert clean("@united my flight https://t.co/abc is late") == "my flight is late"
    # VADER alone reads "@united" as positive; stripped, a bare mention is not praise.
    assert triage("@united").sentiment != "positive"


@pytest.mark.parametrize(
    ("text", "context", "signal"),
    [
        ("The charger caught fire in my kitchen", Context(), "safety words"),
        ("I will contact my lawyer about this", Context(), "legal words"),
        ("You charged me twice this month", Context(), "billing words"),
        ("Is the network down? no signal since morning", Context(), "outage words"),
        ("hello?", Context(followers=250_000), "reach"),
        ("hello?", Context(previous_customer_messages=2), "repeat contact"),
        ("hello?", Context(waiting_minutes=180), "waiting time"),
        ("I lost my photos!!", Context(), "negativity"),
    ],
)
def test_urgency_names_its_signals(text: str, context: Context, signal: str) -> None:
    result = triage(text, context)
    names = [s.name for s in result.signals]
    assert signal in names
    assert result.urgency == min(100, sum(s.points for s in result.signals)) > 0


def test_urgency_orders_posts_as_an_agent_would() -> None:
    calm = triage("What time does the store open?")
    angry = triage("Worst service ever, still waiting for my refund!!")
    dangerous = triage(
        "Phone overheated and burned my hand, this is dangerous",
        Context(followers=50_000, previous_customer_messages=1),
    )
    assert calm.urgency < angry.urgency < dangerous.urgency <= 100
    assert calm.urgency == 0 and calm.signals == ()


def test_spam_is_never_urgent() -> None:
    assert (
        triage("crypto giveaway!! follow me, you were charged", Context(followers=10**6)).urgency
        == 0
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("My flight was cancelled and nobody at the desk will help me", "en"),
        ("Hola, mi vuelo fue cancelado y nadie me ayuda en el aeropuerto", "es"),
        ("Bonjour, mon colis n'est jamais arrivé et personne ne répond", "fr"),
        ("ok!", None),
    ],
)
def test_language(text: str, language: str | None) -> None:
    assert triage(text).language == language


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("My flight was cancelled last night", "Cancelled flight"),
        ("Where is my suitcase? lost luggage at LHR", "Lost luggage"),
        ("I was charged twice on my bill", "Billing"),
        ("nice weather today", None),
    ],
)
def test_default_topics(text: str, topic: str | None) -> None:
    assert triage(text).topic == topic


def test_workspace_topics_replace_the_defaults() -> None:
    topics = {"Roaming": ["roaming", "abroad"], "Billing": ["bill"]}
    assert triage("No data while roaming abroad", Context(topics=topics)).topic == "Roaming"
    assert detect_topic("my flight was cancelled", topics) is None


def test_inline_pass_is_well_under_a_millisecond() -> None:
    triage("warm up the caches")
    posts = [f"@AmericanAir flight {n} cancelled, still waiting for a refund!!" for n in range(300)]
    started = time.perf_counter()
    for post in posts:
        triage(post)
    assert (time.perf_counter() - started) / len(posts) < 0.001

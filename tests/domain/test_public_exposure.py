"""A customer's own public post that gives away personal data is flagged; replies,
notes and private messages never are."""

from __future__ import annotations

import pytest

from socialdesk.domain.personal_data import describe, exposed_in_public


@pytest.mark.parametrize(
    ("direction", "visibility", "body", "said"),
    [
        ("inbound", "public", "@AcmeHelp call me on +44 20 7946 0958 please", "a phone number"),
        ("inbound", "public", "my email is jo.smith@example.org, order 44172 never came",
         "an e-mail address and an order or tracking number"),
        ("inbound", "public", "card 4111 1111 1111 1111 was charged twice", "a card number"),
        ("inbound", "public", "the parcel was left at 221B Baker Street", "a street address"),
        ("inbound", "public", "@AcmeHelp your app keeps crashing", ""),
        # Private messages are where such details belong; our own words are not flagged.
        ("inbound", "private", "call me on +44 20 7946 0958", ""),
        ("outbound", "public", "call us on +44 20 7946 0958", ""),
        ("note", "private", "customer's phone +44 20 7946 0958", ""),
        ("inbound", "public", "", ""),
    ],
)  # fmt: skip
def test_exposed_in_public(direction: str, visibility: str, body: str, said: str) -> None:
    assert describe(exposed_in_public(direction, visibility, body)) == said

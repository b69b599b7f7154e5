"""X's weighted length and URL detection against twitter-text's own conformance cases
(tests/fixtures/twitter_text/conformance.json, see ATTRIBUTION.md): the figures X itself
publishes for what it counts, so a reply we call "fits" is one X accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from socialdesk.domain.enums import Platform
from socialdesk.domain.length_rules import count_length, url_spans

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "twitter_text" / "conformance.json").read_text(
        encoding="utf-8"
    )
)


@pytest.mark.parametrize(
    "case", CASES["weighted_length"], ids=[c["description"] for c in CASES["weighted_length"]]
)
def test_weighted_length_matches_twitter_text(case: dict[str, Any]) -> None:
    assert count_length(case["text"], Platform.X) == case["weightedLength"]


@pytest.mark.parametrize("case", CASES["urls"], ids=[c["description"] for c in CASES["urls"]])
def test_url_detection_matches_twitter_text(case: dict[str, Any]) -> None:
    text = case["text"]
    assert [text[start:end] for start, end in url_spans(text)] == case["expected"]


def test_the_conformance_file_holds_every_case() -> None:
    # A truncated fixture would pass vacuously: 22 weighted-length and 91 URL cases.
    assert (len(CASES["weighted_length"]), len(CASES["urls"])) == (22, 91)

"""``socialdesk bench search`` at a tiny size: it runs, on this backend, and its search
finds the planted rare word in every ticket that has it (no timings asserted)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialdesk.bench.search import RARE_COUNT, RARE_WORD
from socialdesk.cli import app
from socialdesk.cli_common import console
from tests.conftest import BACKEND, PG_ADMIN_URL


def test_bench_search_runs_and_finds_the_rare_word(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wide enough that no table row wraps (the row lookups read one line per row).
    monkeypatch.setattr(console, "width", 250)
    args = ["bench", "search", "--messages", "2000", "--requests", "2", "--rounds", "1",
            "--baseline-requests", "1", "--data-dir", str(shared_data)]  # fmt: skip
    if BACKEND == "postgresql":
        args += ["--database-url", PG_ADMIN_URL]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = {
        name.strip(): int(found)
        for name, found in re.findall(r"│\s*([^│]+?)\s*│[^│]+│[^│]+│\s*(\d+)\s*│", result.output)
    }
    rare = [n for n in rows if n.startswith(f"rare word ({RARE_WORD}")]
    baseline = [n for n in rows if n.startswith(f"baseline: ILIKE rare word ({RARE_WORD}")]
    assert rare and baseline, result.output
    # The full-text search and the ILIKE baseline find the same planted tickets.
    assert rows[rare[0]] == rows[baseline[0]] == RARE_COUNT
    assert any(n.startswith("@handle") and found >= 1 for n, found in rows.items())


def test_bench_search_says_when_the_data_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "search", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "not found" in result.output

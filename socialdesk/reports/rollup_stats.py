"""The overview's figures as mergeable parts: counts that add, and the durations
themselves (float64 arrays) for the medians and percentiles.

``GroupStats`` is what one group of one day holds in a rollup row and what a raw
window's tickets give; adding two is exact, and ``summary`` turns the sum into the
same row ``metrics.summarize`` computes from the tickets (the same middle values, the
same nearest rank, ``math.fsum`` as ``statistics.fmean`` uses), so an answer read from
rollups equals the one folded from raw events to the last digit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from socialdesk.reports.metrics import RESPONSE_WINDOW, Period, TicketFacts, answered_within

ARRAYS = ("first", "resolution", "full", "following", "handled", "pending")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """Microseconds since the epoch: exact in a float64 (under 2**53 until year 2255)."""
    return (at - _EPOCH) // _MICROSECOND


COUNTS = (
    "opened",
    "solved",
    "reopened",
    "replies",
    "touches",
    "notes",
    "auto_replies",
    "answered_24h",
    "eligible_24h",
    "net_new",
    "peer",
    "csat_sum",
    "csat_count",
)


@dataclass(slots=True)
class GroupStats:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    chunks: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {name: [] for name in ARRAYS}
    )

    def add(self, other: GroupStats) -> None:
        for name, value in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        for name, parts in other.chunks.items():
            self.chunks[name].extend(parts)

    def add_opened(self, f: TicketFacts, now: datetime) -> None:
        c = self.counts
        c["opened"] += 1
        c["replies"] += f.replies
        c["touches"] += f.touches
        c["notes"] += f.notes
        c["auto_replies"] += f.auto_replies
        c["reopened"] += 1 if f.reopens else 0
        c["net_new"] += 1 if f.net_new_customer else 0
        c["peer"] += 1 if f.peer_answered else 0
        within = answered_within(f, now)
        if within is not None:
            c["eligible_24h"] += 1
            c["answered_24h"] += 1 if within else 0
        elif f.first_inbound_at is not None:
            # Unanswered and under 24 hours old: it counts, as not answered in time, from
            # the moment its 24 hours pass (``settle_pending``); an answer before then is
            # an event, which makes the rollup's day change and be read raw again.
            deadline = micros(f.first_inbound_at + RESPONSE_WINDOW)
            self.chunks["pending"].append(np.asarray([deadline], dtype=np.float64))
        for name, values in (
            ("first", [f.first_response_seconds]),
            ("resolution", [f.resolution_seconds]),
            ("full", [f.full_resolution_seconds]),
            ("following", list(f.next_response_seconds)),
            ("handled", list(f.handle_seconds)),
        ):
            kept = [v for v in values if v is not None]
            if kept:
                self.chunks[name].append(np.asarray(kept, dtype=np.float64))

    def add_csat(self, score: int) -> None:
        self.counts["csat_sum"] += score
        self.counts["csat_count"] += 1

    def settle_pending(self, now: datetime) -> None:
        """Count the pending tickets whose 24 hours have passed by ``now`` as eligible and
        unanswered, as ``answered_within`` would at ``now``."""
        pending = self.values("pending")
        if not len(pending):
            return
        due = pending <= micros(now)
        self.counts["eligible_24h"] += int(np.count_nonzero(due))
        self.chunks["pending"] = [pending[~due]] if not due.all() else []

    def values(self, name: str) -> np.ndarray:
        parts = self.chunks[name]
        if not parts:
            return np.empty(0, dtype=np.float64)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def columns(self) -> dict[str, Any]:
        """The stats as a rollup row's columns."""
        return dict(self.counts) | {
            f"{name}_values": self.values(name).astype("<f8").tobytes() for name in ARRAYS
        }

    @classmethod
    def from_columns(cls, counts: Sequence[int], blobs: dict[str, list[bytes]]) -> GroupStats:
        """The sum of rollup rows: ``counts`` summed in COUNTS order, their value
        columns joined."""
        stats = cls(counts=dict(zip(COUNTS, (int(c) for c in counts), strict=True)))
        for name in ARRAYS:
            joined = b"".join(blobs[name])
            if joined:
                stats.chunks[name].append(np.frombuffer(joined, "<f8"))
        return stats


def stats_of_facts(
    facts: Iterable[TicketFacts], key_of: Any, period: Period, now: datetime
) -> tuple[dict[str, GroupStats], GroupStats]:
    """Per key and in total, what the facts contribute to ``period``: cohort figures for
    the tickets opened in it, solves and CSAT that happened in it (``metrics.aggregate``'s
    rule). ``key_of(facts, at)`` names the group of a moment."""
    groups: dict[str, GroupStats] = {}
    total = GroupStats()
    for f in facts:
        if period.holds(f.opened_at):
            groups.setdefault(key_of(f, f.opened_at), GroupStats()).add_opened(f, now)
            total.add_opened(f, now)
        for at in f.solved_at:
            if period.holds(at):
                groups.setdefault(key_of(f, at), GroupStats()).counts["solved"] += 1
                total.counts["solved"] += 1
        for at, score in f.csat:
            if period.holds(at):
                groups.setdefault(key_of(f, at), GroupStats()).add_csat(score)
                total.add_csat(score)
    return groups, total


# -- the row, as metrics.summarize writes it --------------------------------------


def _median(values: np.ndarray) -> float | None:
    n = len(values)
    if not n:
        return None
    middle = np.partition(values, [(n - 1) // 2, n // 2])
    if n % 2:
        return float(middle[n // 2])
    return (float(middle[n // 2 - 1]) + float(middle[n // 2])) / 2


def _nearest_rank(values: np.ndarray, share: float) -> float | None:
    if not len(values):
        return None
    rank = max(1, math.ceil(share * len(values)))
    return float(np.partition(values, rank - 1)[rank - 1])


def _mean(values: np.ndarray) -> float | None:
    return math.fsum(values.tolist()) / len(values) if len(values) else None


def _round(value: float | None, places: int = 0) -> float | int | None:
    if value is None:
        return None
    return round(value) if places == 0 else round(value, places)


def summary(key: str, label: str, stats: GroupStats) -> dict[str, Any]:
    c = stats.counts
    first, resolution = stats.values("first"), stats.values("resolution")
    handled = stats.values("handled")
    opened = c["opened"]
    return {
        "key": key,
        "label": label,
        "opened": opened,
        "solved": c["solved"],
        "responded": len(first),
        "first_response_median_seconds": _round(_median(first)),
        "first_response_p90_seconds": _round(_nearest_rank(first, 0.9)),
        "first_response_average_seconds": _round(_mean(first)),
        "next_response_median_seconds": _round(_median(stats.values("following"))),
        "resolution_median_seconds": _round(_median(resolution)),
        "full_resolution_median_seconds": _round(_median(stats.values("full"))),
        "reopened": c["reopened"],
        "reopen_rate": _round(c["reopened"] / len(resolution), 4) if len(resolution) else None,
        "replies_per_ticket": _round(c["replies"] / opened, 2) if opened else None,
        "touches_average": _round(c["touches"] / opened, 2) if opened else None,
        "handled": len(handled),
        "handle_median_seconds": _round(_median(handled)),
        "handle_average_seconds": _round(_mean(handled)),
        "notes": c["notes"],
        "auto_replies": c["auto_replies"],
        "answered_24h": c["answered_24h"],
        "eligible_24h": c["eligible_24h"],
        "response_rate_24h": _round(c["answered_24h"] / c["eligible_24h"], 4)
        if c["eligible_24h"]
        else None,
        "net_new_customers": c["net_new"],
        "peer_answers": c["peer"],
        "csat_average": _round(c["csat_sum"] / c["csat_count"], 2) if c["csat_count"] else None,
        "csat_responses": c["csat_count"],
    }

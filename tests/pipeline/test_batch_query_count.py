"""How many queries one pipeline batch costs: a pin that catches a per-row query."""

from __future__ import annotations

from socialdesk.domain.messages import InboundMessage
from socialdesk.store.db import Database
from tests.pipeline.helpers import ingest, make_account, post
from tests.query_count import counting


def test_one_batch_costs_the_same_few_queries_whatever_its_size(db: Database) -> None:
    """The pipeline looks things up per batch, not per post: ten posts or a hundred cost
    the same number of statements. A new per-row query shows up here as a growth."""
    account = make_account(db)

    def batch(size: int, prefix: str) -> list[InboundMessage]:
        return [
            post(account, f"{prefix}{i}", f"question {i}", author=f"{prefix}user{i}", minutes=i)
            for i in range(size)
        ]

    ingest(db, *batch(3, "warm"))  # first-use lookups (workspace settings, policies)
    with counting(db) as small:
        ingest(db, *batch(10, "a"))
    with counting(db) as large:
        ingest(db, *batch(100, "b"))
    assert len(large) == len(small), (len(small), len(large))
    assert len(small) <= 60, len(small)

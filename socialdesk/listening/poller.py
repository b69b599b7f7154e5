"""Runs saved searches against the networks' search APIs, as the mention poller runs
mention polls: each search at its interval, the searches of one workspace by one
process at a time (``single_runner``), each query's cursor advanced in the transaction
that stores what it found, and a network that answered 429 left alone until its reset
(``x-rate-limit-reset``, ``X-RateLimit-Reset``, ``RateLimit-Reset``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from socialdesk.background import AsyncBackgroundWorker
from socialdesk.channels.accounts import account_ref
from socialdesk.channels.base import AccountRef, SendError, SendFailure
from socialdesk.channels.registry import ConnectorRegistry
from socialdesk.channels.search import SearchPage
from socialdesk.domain.enums import AccountStatus
from socialdesk.domain.timestamps import iso_or_none
from socialdesk.listening.mentions import store_found
from socialdesk.listening.queries import NetworkQuery, compile_for
from socialdesk.listening.rules import apply_mention_rules
from socialdesk.listening.searches import terms_of
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.store.db import Database, utcnow
from socialdesk.store.leases import single_runner
from socialdesk.store.models import ChannelAccount, ListeningSearch

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SearchOutcome:
    search_id: int
    found: int = 0
    stored: int = 0
    ticketed: int = 0
    rate_limited: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def is_due(search: ListeningSearch, now: datetime) -> bool:
    return search.enabled and (
        search.last_run_at is None
        or now - search.last_run_at >= timedelta(seconds=search.interval_seconds)
    )


def _waiting_until(search: ListeningSearch, account_id: int, now: datetime) -> datetime | None:
    until = iso_or_none((search.rate_limited_until or {}).get(str(account_id)))
    return until if until is not None and until > now else None


async def _search(
    connector: object, ref: AccountRef, query: NetworkQuery, cursor: str | None
) -> SearchPage:
    search_posts = getattr(connector, "search_posts", None)
    if search_posts is None:
        raise SendError(SendFailure.PERMANENT, f"{ref.platform} has no search")
    page: SearchPage = await search_posts(ref, query.kind, query.q, cursor)
    return page


async def run_search(
    db: Database, pipeline: Pipeline, registry: ConnectorRegistry, search_id: int
) -> SearchOutcome:
    """One pass of one saved search over each of its accounts and their queries."""
    outcome = SearchOutcome(search_id)
    now = utcnow()
    with db.session() as s:
        search = s.get(ListeningSearch, search_id)
        if search is None:
            return outcome
        terms = terms_of(search)
        accounts = list(
            s.scalars(
                select(ChannelAccount).where(
                    ChannelAccount.id.in_(list(search.account_ids or [])),
                    ChannelAccount.workspace_id == search.workspace_id,
                    ChannelAccount.status == str(AccountStatus.ACTIVE),
                )
            )
        )
        plans = [
            (account_ref(a), compile_for(a.platform, terms), _waiting_until(search, a.id, now))
            for a in accounts
        ]
        cursors = dict(search.cursors or {})
    limited: dict[str, str] = {}
    for ref, queries, waiting in plans:
        if waiting is not None:
            outcome.rate_limited.append(ref.id)
            limited[str(ref.id)] = waiting.isoformat()
            continue
        connector = registry.for_account(ref)
        if connector is None:
            outcome.errors.append(f"no connector for {ref.platform}")
            continue
        for query in queries:
            key = f"{ref.id}:{query.key}"
            try:
                page = await _search(connector, ref, query, cursors.get(key))
            except SendError as error:
                if error.failure is SendFailure.RATE_LIMITED:
                    retry_at = error.retry_at or utcnow() + timedelta(minutes=15)
                    limited[str(ref.id)] = retry_at.isoformat()
                    outcome.rate_limited.append(ref.id)
                    break  # the account's later queries wait for the same window
                outcome.errors.append(f"{ref.platform} account {ref.id}: {error.reason}")
                continue
            outcome.found += len(page.posts)
            with db.write() as s:
                search = s.get(ListeningSearch, search_id)
                if search is None:
                    return outcome
                stored = store_found(s, search, page.posts)
                if page.cursor:
                    search.cursors = {**(search.cursors or {}), key: page.cursor}
                    cursors[key] = page.cursor
                outcome.stored += len(stored)
                outcome.ticketed += apply_mention_rules(s, search.workspace_id, stored, pipeline)
    with db.write() as s:
        search = s.get(ListeningSearch, search_id)
        if search is not None:
            search.last_run_at = utcnow()
            search.rate_limited_until = limited
            search.last_error = "; ".join(outcome.errors)[:2000] or None
    if outcome.errors:
        log.warning("listening search %s: %s", search_id, "; ".join(outcome.errors))
    return outcome


class ListeningPoller(AsyncBackgroundWorker):
    """Runs every enabled saved search at its interval."""

    name = "listening"

    def __init__(self, db: Database, pipeline: Pipeline, registry: ConnectorRegistry) -> None:
        super().__init__()
        self.db = db
        self.pipeline = pipeline
        self.registry = registry

    def due_searches(self) -> dict[int, list[int]]:
        """Due search ids by workspace."""
        now = utcnow()
        due: dict[int, list[int]] = {}
        with self.db.session() as s:
            for search in s.scalars(select(ListeningSearch).where(ListeningSearch.enabled)):
                if is_due(search, now):
                    due.setdefault(search.workspace_id, []).append(search.id)
        return due

    async def run_once(self) -> list[SearchOutcome]:
        outcomes = []
        for workspace_id, search_ids in self.due_searches().items():
            # One runner per workspace, so two searches never store the same post twice.
            with single_runner(self.db, f"listen-{workspace_id}") as mine:
                if not mine:
                    continue
                for search_id in search_ids:
                    outcomes.append(
                        await run_search(self.db, self.pipeline, self.registry, search_id)
                    )
        return outcomes

    async def run_pass(self) -> bool:
        await self.run_once()
        return False

    async def close(self) -> None:
        await self.registry.aclose()

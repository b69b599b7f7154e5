"""The reports' periodic pass: fold closed days into rollups (``reports/rollups.py``) and
queue the daily digests that are due (``reports/digest_send.py``). One process at a time
does each (``single_runner``); the others skip it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from socialdesk.background import BackgroundWorker
from socialdesk.reports.digest_send import send_due_digests
from socialdesk.reports.rollups import materialise
from socialdesk.store.db import Database, utcnow


class ReportsWorker(BackgroundWorker):
    name = "reports"

    def __init__(
        self, db: Database, interval_seconds: float = 300.0, clock: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__()
        self.db, self.interval, self.clock = db, interval_seconds, clock

    def run_once(self) -> int | None:
        """One pass: the days folded (None: another process had the turn)."""
        return materialise(self.db, self.clock())

    def run_pass(self) -> bool:
        self.run_once()
        send_due_digests(self.db, self.clock())
        return False

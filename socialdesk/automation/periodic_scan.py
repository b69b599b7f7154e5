"""The periodic pass in the background: SLA warnings and breaches, SLA rules and
``time_elapsed`` rules (``run_sla_cycle``) every ``sla_scan_seconds``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from socialdesk.automation.step import run_sla_cycle
from socialdesk.background import BackgroundWorker
from socialdesk.observability.metrics import sla_notices_recorded
from socialdesk.store.db import Database, utcnow


class SlaScanWorker(BackgroundWorker):
    # The first pass waits one interval: a fresh process has nothing overdue to rush.
    name = "sla-scan"

    def __init__(
        self, db: Database, interval_seconds: float = 60.0, clock: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__()
        self.db, self.interval, self.clock = db, interval_seconds, clock

    def run_once(self) -> int:
        """One pass; the number of SLA notices it recorded."""
        notices = run_sla_cycle(self.db, self.clock())
        sla_notices_recorded(notices)  # committed by now: counted once
        return len(notices)

    def run_pass(self) -> bool:
        self.run_once()
        return False  # one pass per interval: the scan covers everything due

"""The periodic pass in the background: SLA warnings and breaches, SLA rules and
``time_elapsed`` rules (``run_sla_cycle``) every ``sla_scan_seconds``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from socialdesk.automation.step import run_sla_cycle
from socialdesk.store.db import Database, utcnow

log = logging.getLogger(__name__)


class SlaScanWorker:
    def __init__(
        self, db: Database, interval_seconds: float = 60.0, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db, self.interval, self.clock = db, interval_seconds, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One pass; the number of SLA notices it recorded."""
        return len(run_sla_cycle(self.db, self.clock()))

    def _loop(self) -> None:
        # The first pass waits one interval: a fresh process has nothing overdue to rush.
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a bad rule or a lost connection must not end the loop
                log.exception("SLA / time rules pass failed; retrying next interval")

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sla-scan", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

"""The radar's periodic pass (``scan.scan``), one process at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from socialdesk.background import BackgroundWorker
from socialdesk.radar.scan import ScanResult, scan
from socialdesk.store.db import Database, utcnow


class RadarWorker(BackgroundWorker):
    name = "radar"

    def __init__(
        self, db: Database, interval_seconds: float = 60.0, clock: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__()
        self.db, self.interval, self.clock = db, interval_seconds, clock

    def run_once(self) -> ScanResult | None:
        return scan(self.db, self.clock())

    def run_pass(self) -> bool:
        self.run_once()
        return False

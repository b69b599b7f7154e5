"""Background workers: one daemon thread per worker, running passes of its work.

A pass runs when the worker is kicked (this process just committed work for it) or when
its interval has passed (work committed by another process, or a timer falling due). A
pass that says more work is waiting is followed by the next one at once. An exception
is logged and the worker carries on at its next wake-up, so a bad row or a lost
connection never ends it. Every worker in socialdesk (raw events, delivery, polling,
notifications, SLA scan, live relay) is one of these two kinds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from socialdesk.observability.logs import log_context
from socialdesk.observability.metrics import worker_pass

log = logging.getLogger(__name__)


class _WorkerThread:
    name = "worker"
    interval = 1.0  # seconds between passes when nobody kicks
    join_timeout = 10.0

    def __init__(self) -> None:
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # When the last pass ended without an error (monotonic); readiness and the
        # metrics read it. Starting counts: the first pass may be an interval away.
        self._last_ok: float | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._last_ok = time.monotonic()
        self._thread = threading.Thread(target=self._thread_main, name=self.name, daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Run a pass now rather than at the end of the interval."""
        self._kick.set()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_timeout)
            self._thread = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def seconds_since_last_pass(self) -> float | None:
        """Seconds since the last pass that ended without an error (None: not started)."""
        if self._last_ok is None:
            return None
        return time.monotonic() - self._last_ok

    def _pass_done(self, ok: bool) -> None:
        if ok:
            self._last_ok = time.monotonic()
        worker_pass(self.name, ok)

    def _wait_for_work(self) -> bool:
        """Sleep until kicked or the interval is up; False once the worker should end."""
        self._kick.wait(self.interval)
        self._kick.clear()
        return not self._stop.is_set()

    def _thread_main(self) -> None:
        raise NotImplementedError


class BackgroundWorker(_WorkerThread):
    """A worker whose pass is plain blocking code."""

    def run_pass(self) -> bool:
        """One pass of work; True when more is waiting and the next should not wait."""
        raise NotImplementedError

    def _thread_main(self) -> None:
        while self._wait_for_work():
            # Each wake-up is its own log scope: ids a pass binds end with it.
            with log_context():
                try:
                    while self.run_pass() and not self.stopping:
                        pass
                except Exception:  # the worker must survive to try again
                    log.exception("%s: pass failed; trying again later", self.name)
                    self._pass_done(ok=False)
                else:
                    self._pass_done(ok=True)


class AsyncBackgroundWorker(_WorkerThread):
    """A worker whose pass awaits network calls; one event loop for its whole life, so
    HTTP clients bound to it stay usable from pass to pass."""

    async def run_pass(self) -> bool:
        """One pass of work; True when more is waiting and the next should not wait."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the passes held open (HTTP clients), on the worker's own loop."""

    def _thread_main(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        try:
            while await asyncio.to_thread(self._wait_for_work):
                with log_context():
                    try:
                        while await self.run_pass() and not self.stopping:
                            pass
                    except Exception:  # the worker must survive to try again
                        log.exception("%s: pass failed; trying again later", self.name)
                        self._pass_done(ok=False)
                    else:
                        self._pass_done(ok=True)
        finally:
            await self.close()

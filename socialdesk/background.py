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

log = logging.getLogger(__name__)


class _WorkerThread:
    name = "worker"
    interval = 1.0  # seconds between passes when nobody kicks
    join_timeout = 10.0

    def __init__(self) -> None:
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
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
            try:
                while self.run_pass() and not self.stopping:
                    pass
            except Exception:  # the worker must survive to try again
                log.exception("%s: pass failed; trying again later", self.name)


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
                try:
                    while await self.run_pass() and not self.stopping:
                        pass
                except Exception:  # the worker must survive to try again
                    log.exception("%s: pass failed; trying again later", self.name)
        finally:
            await self.close()

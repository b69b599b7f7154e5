"""The background worker loop: passes on kick and on interval, repeated while work
waits, surviving a failing pass, and closing what it opened when stopped."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from socialdesk.background import AsyncBackgroundWorker, BackgroundWorker

WAIT = 5.0  # generous: these tests assert what happens, not how fast


class Countdown(BackgroundWorker):
    """Has ``work`` items; one per pass; fails on the passes listed in ``fail_on``."""

    name = "test-countdown"

    def __init__(self, work: int, interval: float = 60.0, fail_on: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.interval = interval
        self.work = work
        self.fail_on = fail_on
        self.passes = 0
        self.emptied = threading.Event()

    def run_pass(self) -> bool:
        self.passes += 1
        if self.passes in self.fail_on:
            raise RuntimeError("a bad row")
        if self.work:
            self.work -= 1
        if not self.work:
            self.emptied.set()
        return self.work > 0


def _until(condition: object, seconds: float = WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def test_nothing_runs_before_a_kick_or_the_interval() -> None:
    worker = Countdown(work=3, interval=60.0)
    worker.start()
    try:
        time.sleep(0.2)
        assert worker.passes == 0
        worker.kick()
        assert worker.emptied.wait(WAIT)
        assert worker.passes == 3  # one kick: passes repeat while work waits
    finally:
        worker.stop()


def test_the_interval_wakes_a_worker_nobody_kicks() -> None:
    worker = Countdown(work=1, interval=0.05)
    worker.start()
    try:
        assert worker.emptied.wait(WAIT)
    finally:
        worker.stop()


@pytest.mark.parametrize(("fail_on", "passes_after_kicks"), [((1,), 3), ((2,), 3), ((1, 2), 4)])
def test_a_failing_pass_is_logged_and_the_next_wake_up_carries_on(
    fail_on: tuple[int, ...], passes_after_kicks: int, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Countdown(work=2, fail_on=fail_on)
    worker.start()
    try:
        while not worker.emptied.is_set():
            worker.kick()
            _until(lambda: worker.emptied.is_set(), 0.1)
        assert worker.passes == passes_after_kicks
        assert "test-countdown: pass failed" in caplog.text
    finally:
        worker.stop()


def test_stop_ends_the_thread_and_start_again_works() -> None:
    worker = Countdown(work=1)
    worker.start()
    worker.start()  # a second start does not start a second thread
    worker.stop()
    assert worker._thread is None
    worker.start()
    worker.kick()
    assert worker.emptied.wait(WAIT)
    worker.stop()


class AsyncCountdown(AsyncBackgroundWorker):
    name = "test-async"

    def __init__(self, work: int) -> None:
        super().__init__()
        self.interval = 60.0
        self.work = work
        self.loops: set[int] = set()
        self.closed = threading.Event()

    async def run_pass(self) -> bool:
        self.loops.add(id(asyncio.get_running_loop()))
        self.work -= 1
        return self.work > 0

    async def close(self) -> None:
        self.closed.set()


def test_async_worker_keeps_one_event_loop_and_closes_on_stop() -> None:
    worker = AsyncCountdown(work=3)
    worker.start()
    worker.kick()
    assert _until(lambda: worker.work == 0)
    worker.work = 2
    worker.kick()
    assert _until(lambda: worker.work == 0)
    assert len(worker.loops) == 1  # clients bound to the loop stay usable
    assert not worker.closed.is_set()
    worker.stop()
    assert worker.closed.is_set()

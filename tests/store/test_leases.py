"""One runner at a time across threads and processes, and a dead runner's turn passes on."""

from __future__ import annotations

import signal
import subprocess
import sys

from socialdesk.store.db import Database
from socialdesk.store.leases import advisory_key, single_runner
from tests.delivery.helpers import eventually

HOLDER = """
import sys, time
from socialdesk.store.db import Database
from socialdesk.store.leases import single_runner
with single_runner(Database(sys.argv[1]), "sla-scan") as mine:
    print("held" if mine else "refused", flush=True)
    time.sleep(120)
"""


def test_one_runner_at_a_time(db: Database) -> None:
    with (
        single_runner(db, "sla-scan") as first,
        single_runner(db, "sla-scan") as second,
        single_runner(db, "poll-1") as other,
    ):
        assert (first, second, other) == (True, False, True)
    with single_runner(db, "sla-scan") as again:
        assert again  # released at the end of the turn


def test_a_runner_that_dies_gives_its_turn_up(db: Database) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db.url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with single_runner(db, "sla-scan") as mine:
            assert not mine
        holder.send_signal(signal.SIGKILL)  # no clean-up: the lock must go with the process
        holder.wait(timeout=30)

        def free() -> bool:
            with single_runner(db, "sla-scan") as taken:
                return taken

        assert eventually(free)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_advisory_keys_are_stable_and_distinct() -> None:
    assert advisory_key("sla-scan") == advisory_key("sla-scan")
    assert (
        len({advisory_key(f"poll-{n}") for n in range(1000)} | {advisory_key("sla-scan")}) == 1001
    )
    assert all(-(2**63) <= advisory_key(f"poll-{n}") < 2**63 for n in range(100))

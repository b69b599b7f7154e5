"""The simulated agents of ``socialdesk bench load``, in a process of their own.

Kept apart from ``load.py`` so the spawned process imports only httpx and the standard
library: it starts in a fraction of the time, and its CPU goes to the agents' requests.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

THINK_SECONDS = 1.0  # an agent's pause between two replies
REPLY = "Thanks for letting us know. We are looking into it and will get back to you here."


@dataclass
class AgentTimes:
    pages: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    errors: int = 0


def agent(base_url: str, token: str, stop: Any, times: AgentTimes, lock: threading.Lock) -> None:
    rng = random.Random(token)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=30, headers=headers) as client:
        while True:  # at least one round each, however short the run
            pages: list[float] = []
            replied: float | None = None
            errors = 0
            try:
                started = time.perf_counter()
                listed = client.get(
                    "/api/v1/tickets", params={"status": "unsolved", "channel": "x", "limit": 25}
                )
                pages.append((time.perf_counter() - started) * 1000)
                errors += int(listed.status_code != 200)
                tickets = listed.json()["data"] if listed.status_code == 200 else []
                if tickets:
                    ticket_id = rng.choice(tickets)["id"]
                    started = time.perf_counter()
                    opened = client.get(f"/api/v1/tickets/{ticket_id}")
                    pages.append((time.perf_counter() - started) * 1000)
                    errors += int(opened.status_code != 200)
                    started = time.perf_counter()
                    sent = client.post(
                        f"/api/v1/tickets/{ticket_id}/replies",
                        json={"body": REPLY, "client_key": f"{token[-12:]}-{time.time_ns()}"},
                    )
                    replied = (time.perf_counter() - started) * 1000
                    errors += int(sent.status_code != 201)
            except httpx.HTTPError:
                errors += 1
            with lock:
                times.pages.extend(pages)
                if replied is not None and errors == 0:
                    times.replies.append(replied)
                times.errors += errors
            if stop.is_set() or stop.wait(THINK_SECONDS):
                return


def agents_main(base_url: str, tokens: list[str], stop: Any, out: Any) -> None:
    """The agents' process: one thread per agent until ``stop`` is set; puts their
    timings on ``out``."""
    times, lock = AgentTimes(), threading.Lock()
    threads = [
        threading.Thread(target=agent, args=(base_url, t, stop, times, lock), daemon=True)
        for t in tokens
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((times.pages, times.replies, times.errors))

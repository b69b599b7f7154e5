"""Several notification workers on one database: each queued e-mail is claimed by one."""

from __future__ import annotations

import threading

from sqlalchemy import select

from socialdesk.actions.admin import ensure_workspace
from socialdesk.notify.mailer import SmtpConfig
from socialdesk.notify.outbox import enqueue_email, outbox_table
from socialdesk.notify.worker import NotificationWorker
from socialdesk.store.db import Database, utcnow

SMTP = SmtpConfig(host="127.0.0.1", port=2525, sender="desk@example.com", starttls=False)


def test_concurrent_claims_take_every_notification_exactly_once(db: Database) -> None:
    with db.write() as s:
        workspace_id = ensure_workspace(s).id
        rows = [
            enqueue_email(
                s.connection(),
                workspace_id=workspace_id,
                recipients=["lead@example.com"],
                subject=f"breach {n}",
                body="a ticket breached its SLA",
                now=utcnow(),
            )
            for n in range(90)
        ]
    workers = 5
    start = threading.Barrier(workers)
    claimed: list[list[int]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        worker = NotificationWorker(db, SMTP)
        try:
            start.wait()
            while batch := worker.claim(limit=4):
                claimed[index].extend(batch)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(row for mine in claimed for row in mine) == sorted(rows)
    with db.session() as s:
        assert set(s.scalars(select(outbox_table.c.attempts))) == {1}

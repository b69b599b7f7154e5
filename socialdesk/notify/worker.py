"""The notification worker: claims queued e-mail notifications, sends them over SMTP,
records what happened (same shape as ``delivery/worker.py``).

* claim: rows ``queued`` (or ``not_configured``, once SMTP is configured) whose
  ``next_attempt_at`` has come, and ``sending`` rows whose claim expired (a worker died
  mid-send), are marked ``sending`` and committed before the SMTP call; on PostgreSQL
  ``FOR UPDATE SKIP LOCKED``, so two worker processes never claim one row, and the
  claim is a lease a heartbeat renews while the worker is on it (``store/leases.py``);
* a 4xx reply or a dropped connection is retried with exponential backoff, up to
  ``max_attempts``; a 5xx reply or refused credentials fail the row with the reason;
* without ``SOCIALDESK_SMTP_HOST`` nothing is sent: rows are written (or, if queued
  earlier, marked) ``not_configured`` with that reason, for the admin to see
  (``GET /api/v1/notifications/email-outbox``), and go out once SMTP is configured.

A notification is delivered at least once: a worker that dies after the relay accepted
the mail and before its commit sends it again after the claim expires. For an internal
heads-up that is the better side to err on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import and_, or_, select, update

from socialdesk.background import BackgroundWorker
from socialdesk.channels.base import SendError, SendFailure
from socialdesk.notify import mailer
from socialdesk.notify.mailer import SmtpConfig
from socialdesk.notify.outbox import outbox_table
from socialdesk.store.db import Database, utcnow
from socialdesk.store.leases import RowLease

log = logging.getLogger(__name__)

NOT_CONFIGURED = "not_configured"
NOT_CONFIGURED_REASON = "SMTP is not configured (set SOCIALDESK_SMTP_HOST); not sent yet"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    first_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    claim_for: timedelta = timedelta(seconds=30)  # renewed while the worker is on it

    def backoff(self, attempts: int) -> timedelta:
        return min(self.first_backoff * (2 ** max(0, attempts - 1)), self.max_backoff)


Sender = Callable[[SmtpConfig, EmailMessage], None]


class NotificationWorker(BackgroundWorker):
    name = "notify"
    join_timeout = 30.0  # an SMTP conversation in flight may take a while to finish

    def __init__(
        self,
        db: Database,
        config: SmtpConfig | None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        sender: Sender = mailer.send,
        interval: float = 2.0,
    ) -> None:
        super().__init__()
        self.db = db
        self.config = config
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.sender = sender
        self.interval = interval

    # -- one pass ---------------------------------------------------------------------

    def _mark_not_configured(self) -> int:
        o = outbox_table.c
        with self.db.session() as s:  # read first: no write lock on an idle desk
            waiting = s.execute(select(o.id).where(o.state == "queued").limit(1)).first()
        if waiting is None:
            return 0
        with self.db.write() as s:
            result = s.execute(
                update(outbox_table)
                .where(o.state == "queued")
                .values(state=NOT_CONFIGURED, last_error=NOT_CONFIGURED_REASON)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def claim(self, limit: int = 20) -> list[int]:
        return self._claim(limit).ids

    def _claim(self, limit: int) -> RowLease:
        now = self.clock()
        until = now + self.policy.claim_for
        if self.config is None:
            self._mark_not_configured()
            return RowLease(self.db, outbox_table, [], until, self.policy.claim_for)
        o = outbox_table.c
        with self.db.write() as s:
            ids = list(
                s.scalars(
                    select(o.id)
                    .where(
                        or_(
                            and_(o.state.in_(["queued", NOT_CONFIGURED]), o.next_attempt_at <= now),
                            and_(o.state == "sending", o.claimed_until < now),
                        )
                    )
                    .order_by(o.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                s.execute(
                    update(outbox_table)
                    .where(o.id.in_(ids))
                    .values(
                        state="sending",
                        attempts=o.attempts + 1,
                        claimed_until=until,
                    )
                )
        return RowLease(self.db, outbox_table, ids, until, self.policy.claim_for, self.clock)

    def run_once(self, limit: int = 20) -> int:
        lease = self._claim(limit)
        with lease:
            for entry_id in lease.ids:
                if not lease.holds(entry_id):
                    continue  # taken over by another worker after a stall
                try:
                    self.deliver(entry_id)
                except Exception:  # a bug must not stall the queue; the claim expires, retried
                    log.exception("e-mail notification %s failed unexpectedly", entry_id)
        return len(lease.ids)

    def deliver(self, entry_id: int) -> None:
        assert self.config is not None
        o = outbox_table.c
        with self.db.session() as s:
            row = s.execute(select(outbox_table).where(o.id == entry_id)).first()
        if row is None:
            return
        recipients = [str(r) for r in row.recipients or []]
        if not recipients:
            self._finish(entry_id, "failed", "no recipient address")
            return
        message = mailer.compose(self.config, recipients, row.subject, row.body, self.clock())
        try:
            self.sender(self.config, message)
        except SendError as error:
            retryable = error.failure in (SendFailure.RETRYABLE, SendFailure.RATE_LIMITED)
            if retryable and row.attempts < self.policy.max_attempts:
                retry_at = self.clock() + self.policy.backoff(row.attempts)
                self._retry(entry_id, error.reason, retry_at)
            else:
                suffix = f" (gave up after {row.attempts} attempts)" if retryable else ""
                self._finish(entry_id, "failed", f"{error.reason}{suffix}")
            return
        self._finish(entry_id, "sent", None)

    def _finish(self, entry_id: int, state: str, reason: str | None) -> None:
        values: dict[str, object] = {"state": state, "claimed_until": None, "last_error": reason}
        if state == "sent":
            values["sent_at"] = self.clock()
        else:
            log.warning("e-mail notification %s failed: %s", entry_id, reason)
        with self.db.write() as s:
            s.execute(update(outbox_table).where(outbox_table.c.id == entry_id).values(values))

    def _retry(self, entry_id: int, reason: str, at: datetime) -> None:
        with self.db.write() as s:
            s.execute(
                update(outbox_table)
                .where(outbox_table.c.id == entry_id)
                .values(state="queued", next_attempt_at=at, claimed_until=None, last_error=reason)
            )

    # -- background thread ------------------------------------------------------------

    def run_pass(self) -> bool:
        return self.run_once() > 0

    def _thread_main(self) -> None:
        if self.config is None:
            # Nothing can be sent: mark what waits once and stay idle (no polling; new
            # rows are written "not_configured" by the rule itself).
            try:
                self._mark_not_configured()
            except Exception:
                log.exception("notification pass failed")
            self._stop.wait()
            return
        super()._thread_main()

"""How a channel account is doing, for the API and the settings page: its state, when it
last received, sent and polled, its rate limit, its reply queue, and whether it has gone
quiet for longer than its usual rhythm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.domain.channel_health import Silence, assess_silence
from socialdesk.domain.enums import AccountStatus
from socialdesk.store.db import utcnow
from socialdesk.store.models import ChannelAccount, Message, OutboxEntry

# The recent inbound posts the silence rule learns the usual gap from.
RHYTHM_SAMPLE = 50


@dataclass(frozen=True, slots=True)
class AccountHealth:
    account: ChannelAccount
    silence: Silence
    queued_replies: int
    failed_replies: int

    @property
    def needs_reauthorization(self) -> bool:
        return self.account.status == AccountStatus.NEEDS_REAUTH

    @property
    def rate_limit(self) -> dict[str, Any]:
        return self.account.rate_limit or {}

    @property
    def last_activity_at(self) -> datetime | None:
        moments = [
            m
            for m in (
                self.account.last_received_at,
                self.account.last_sent_at,
                self.account.last_polled_at,
            )
            if m is not None
        ]
        return max(moments, default=None)


def account_health(
    session: Session, account: ChannelAccount, now: datetime | None = None
) -> AccountHealth:
    received = list(
        session.scalars(
            select(Message.received_at)
            .where(Message.channel_account_id == account.id, Message.direction == "inbound")
            .order_by(Message.id.desc())
            .limit(RHYTHM_SAMPLE)
        )
    )
    # Result has .keys(), so dict(result) would treat it as a mapping: build it by rows.
    counts: dict[str, int] = {
        state: count
        for state, count in session.execute(
            select(OutboxEntry.state, func.count())
            .where(
                OutboxEntry.channel_account_id == account.id,
                OutboxEntry.state.in_(["queued", "sending", "failed"]),
            )
            .group_by(OutboxEntry.state)
        )
    }
    return AccountHealth(
        account=account,
        silence=assess_silence(received, now or utcnow()),
        queued_replies=counts.get("queued", 0) + counts.get("sending", 0),
        failed_replies=counts.get("failed", 0),
    )

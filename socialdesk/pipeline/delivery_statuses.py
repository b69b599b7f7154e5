"""What the network says became of our sends (WhatsApp ``statuses``): delivered and read
are recorded on the message; failed marks it failed with the network's reason.

Statuses arrive out of order and more than once, so a message's status only moves
forward (sent → delivered → read); a failure stands whatever came before, because the
network takes the message back. A status for a message we have no id for yet (the
send's answer is still being committed) is dropped: the next one will find it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.channels.base import DeliveryStatus, NetworkStatus
from socialdesk.domain.enums import DeliveryState, Direction
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.store.models import Message

_RANK = {
    NetworkStatus.SENT: 0,
    NetworkStatus.DELIVERED: 1,
    NetworkStatus.READ: 2,
    NetworkStatus.FAILED: 3,
}


def apply_statuses(s: Session, statuses: Sequence[DeliveryStatus]) -> int:
    """Record ``statuses`` on our outbound messages; how many messages changed."""
    changed = 0
    for status in statuses:
        message = s.scalar(
            select(Message)
            .where(
                Message.platform_message_id == status.platform_message_id,
                Message.channel_account_id == status.account_id,
                Message.direction == str(Direction.OUTBOUND),
            )
            .limit(1)
        )
        if message is None:
            continue
        known = message.meta.get("network_status")
        if known in _RANK and _RANK[NetworkStatus(known)] >= _RANK[status.status]:
            continue
        message.meta = {
            **message.meta,
            "network_status": str(status.status),
            "network_status_at": status.at.isoformat(),
        }
        if status.status is NetworkStatus.FAILED:
            message.delivery_state = str(DeliveryState.FAILED)
            message.delivery_error = f"the network did not deliver it: {status.error}"
        changed += 1
        queue_live_event(
            s,
            LiveEvent(
                "message.updated",
                message.workspace_id,
                {"ticket_id": message.ticket_id, "message_id": message.id},
            ),
        )
    return changed

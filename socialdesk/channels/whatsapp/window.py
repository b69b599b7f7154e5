"""WhatsApp's customer-service window, as pure functions.

A business may send free-form messages (text, media) for 24 hours after the customer's
last message. Outside that window, or before the customer ever wrote, only a message
template Meta approved in advance may be sent (error 131047 "Re-engagement message"
otherwise). Unlike Messenger there is no human-agent extension. The edge is exclusive:
at exactly 24 hours the window is already closed, because Meta's clock is not ours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    if last_inbound_at is None:
        return None
    if last_inbound_at.utcoffset() is None:
        raise ValueError(f"last_inbound_at must be timezone-aware, got {last_inbound_at!r}")
    return last_inbound_at.astimezone(UTC) + CUSTOMER_SERVICE_WINDOW


def is_window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    closes = window_closes_at(last_inbound_at)
    return closes is not None and now < closes


def free_form_refusal(last_inbound_at: datetime | None, now: datetime) -> str | None:
    """Why a free-form message cannot be sent now (None when it can): the agent must
    choose an approved template instead."""
    if is_window_open(last_inbound_at, now):
        return None
    closes = window_closes_at(last_inbound_at)
    if closes is None:
        return (
            "the customer has not written to us on WhatsApp, so no customer-service window "
            "is open: only an approved message template can be sent; choose a template"
        )
    return (
        "WhatsApp's 24-hour customer-service window closed at "
        f"{closes:%Y-%m-%d %H:%M} UTC (24 hours after the customer's last message): "
        "only an approved message template can be sent now; choose a template"
    )

"""Who reacts to what a write did. Order matters within an event: the SLA clocks settle
before automation rules read them.

Loaded by the first :func:`socialdesk.dispatch.emit`; importing it again is harmless."""

from __future__ import annotations

from socialdesk.actions import tickets as ticket_actions
from socialdesk.automation import listeners as automation
from socialdesk.dispatch import (
    AgentReplied,
    PriorityChanged,
    ScheduledReplySent,
    StatusChanged,
    listen,
)
from socialdesk.sla import listeners as sla

listen(AgentReplied, sla.on_agent_replied)
listen(AgentReplied, automation.on_agent_replied)

listen(StatusChanged, sla.on_status_changed)
listen(StatusChanged, automation.on_status_changed)

listen(PriorityChanged, sla.on_priority_changed)

listen(ScheduledReplySent, ticket_actions.on_scheduled_reply_sent)

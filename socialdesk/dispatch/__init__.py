"""What a write did, announced to whoever reacts to it.

An action records the change itself (ticket event, audit entry, live event) and then
``emit``s a fact such as :class:`AgentReplied`. The features that react (SLA clocks,
promised follow-ups, automation rules, the answer a scheduled send becomes) register
listeners in :mod:`socialdesk.wiring.listeners`, so an action never imports the
features built on top of it and no folder imports back up.

Listeners run synchronously, in registration order, inside the writer's transaction:
a listener that fails rolls the write back with it.
"""

from socialdesk.dispatch.bus import emit, forget, listen, listeners_of
from socialdesk.dispatch.events import (
    AgentReplied,
    PriorityChanged,
    ScheduledReplySent,
    StatusChanged,
)

__all__ = [
    "AgentReplied",
    "PriorityChanged",
    "ScheduledReplySent",
    "StatusChanged",
    "emit",
    "forget",
    "listen",
    "listeners_of",
]

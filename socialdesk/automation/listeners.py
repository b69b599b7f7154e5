"""What automation does when an agent answers or a ticket's status changes: promised
follow-ups, the "Does it work now?" check-in and the rules for those triggers
(registered in :mod:`socialdesk.wiring.listeners`, after the SLA clocks)."""

from __future__ import annotations

from socialdesk.automation.check_in import ask_after_solve
from socialdesk.automation.followups import schedule_promised_follow_up
from socialdesk.automation.step import run_for_ticket
from socialdesk.dispatch import AgentReplied, StatusChanged
from socialdesk.domain.enums import TicketStatus


def on_agent_replied(event: AgentReplied) -> None:
    schedule_promised_follow_up(event.session, event.ticket, event.actor, event.message, event.at)
    run_for_ticket(
        event.session,
        event.ticket,
        "agent_reply",
        event.at,
        {"text": event.message.body, "own_post": True, "visibility": event.message.visibility},
    )


def on_status_changed(event: StatusChanged) -> None:
    if event.by_rule:  # rules do not run again on their own change
        return
    if event.new == TicketStatus.SOLVED and event.actor is not None:
        ask_after_solve(event.session, event.ticket, event.at)
    run_for_ticket(
        event.session, event.ticket, "status_change", event.at, {"previous_status": event.previous}
    )

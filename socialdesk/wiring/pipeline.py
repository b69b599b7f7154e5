"""The one place that decides which steps the inbound pipeline runs.

Triage, routing, SLA and automation register their ``PipelineStep`` here, so the web
app, the replay command and the benchmarks all process posts the same way.
"""

from __future__ import annotations

from datetime import timedelta

from socialdesk.automation.check_in import CheckInStep
from socialdesk.automation.step import AutomationStep
from socialdesk.config import Settings
from socialdesk.pipeline.ingest import Pipeline, PipelineStep
from socialdesk.pipeline.peer_answer_step import PeerAnswerStep
from socialdesk.pipeline.stated_email import StatedEmailStep
from socialdesk.pipeline.triage_step import TriageStep
from socialdesk.routing.step import RoutingStep
from socialdesk.sla.step import SlaStep


def default_steps(settings: Settings) -> list[PipelineStep]:
    # Answers to "Does it work now?" first (a satisfied one keeps the ticket solved),
    # then rules (they may set team and priority), then routing, then SLA due times.
    # The address a customer states in a DM is noted before anything else reads the contact;
    # triage labels the messages before the rules and routing that read intent and urgency.
    return [
        StatedEmailStep(),
        TriageStep(),
        # Fans answering the customer: recorded before the rules, which may read them.
        PeerAnswerStep(),
        CheckInStep(),
        AutomationStep(),
        RoutingStep(),
        SlaStep(),
    ]


def build_pipeline(settings: Settings) -> Pipeline:
    return Pipeline(
        thread_window=timedelta(hours=settings.thread_window_hours), steps=default_steps(settings)
    )

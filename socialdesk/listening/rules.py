"""Automation rules on found mentions (event ``mention_found``): the conditions of
``automation/rules.py`` over the mention's facts (network, account, text, sentiment,
intent, follower count), and the ``create_ticket`` action, run as the mentions are
stored (in that transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.automation.rules import MENTION_EVENT, conditions_hold
from socialdesk.listening.mentions import make_ticket
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.store.models import AutomationRule, ListeningMention


def mention_facts(mention: ListeningMention) -> dict[str, Any]:
    return {
        "channel": mention.platform,
        "account": mention.channel_account_id,
        "text": mention.body,
        "sentiment": mention.sentiment,
        "intent": mention.intent,
    }


def apply_mention_rules(
    session: Session, workspace_id: int, mentions: Sequence[ListeningMention], pipeline: Pipeline
) -> int:
    """Tickets made by rules for these new mentions; each mention at most once."""
    if not mentions:
        return 0
    rules = list(
        session.scalars(
            select(AutomationRule)
            .where(
                AutomationRule.workspace_id == workspace_id,
                AutomationRule.event == MENTION_EVENT,
                AutomationRule.enabled,
            )
            .order_by(AutomationRule.position, AutomationRule.id)
        )
    )
    made = 0
    for mention in mentions:
        facts = mention_facts(mention)
        for rule in rules:
            wants_ticket = any(a.get("type") == "create_ticket" for a in rule.actions)
            if wants_ticket and conditions_hold(rule.conditions, facts):
                make_ticket(session, None, mention, pipeline)
                made += 1
                break
    return made

"""Settings, one module per section of the left nav: General, Channels, Canned responses,
Knowledge base, FAQ finder, Users, Teams, Automation rules, SLA policies, Topics, Audit log,
Failed deliveries (``base.py`` has the shared parts)."""

from __future__ import annotations

from fastapi import APIRouter

from socialdesk.web.pages.settings import (
    audit,
    canned,
    channels,
    deliveries,
    faq,
    general,
    kb,
    rules,
    sla,
    teams,
    topics,
    users,
)

router = APIRouter(include_in_schema=False)
for section in (
    general, channels, canned, kb, faq, users, teams, rules, sla, topics, audit, deliveries,
):  # fmt: skip
    router.include_router(section.router)

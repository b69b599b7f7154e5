"""Sending the daily digest: at the workspace's hour, once a day, to its leads and
marketing people, through the notification outbox (``notify/``).

The workspace setting ``digest_hour`` (0 to 23, in the workspace's time zone; unset: no
digest) says when. The periodic pass (``ReportsWorker``) calls ``send_due_digests``;
one process at a time has the turn (``single_runner``) and the e-mail row and the
``digest.sent`` audit entry commit together, so a later pass, in this process or
another, sees that today's digest went and sends none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import audit
from socialdesk.config import get_settings
from socialdesk.notify.outbox import enqueue_email
from socialdesk.reports.digest import build_digest, digest_email
from socialdesk.reports.overview import workspace_zone
from socialdesk.store.db import Database
from socialdesk.store.leases import single_runner
from socialdesk.store.models import AuditEntry, Workspace
from socialdesk.store.repos.people import leads_and_marketing

SENT = "digest.sent"


def digest_hour(settings: dict[str, object] | None) -> int | None:
    """The hour set for the digest, None when unset or not an hour."""
    value = (settings or {}).get("digest_hour")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        hour = int(value)
    except ValueError:
        return None
    return hour if 0 <= hour <= 23 else None


def send_digest_if_due(session: Session, workspace: Workspace, now: datetime) -> int | None:
    """Queue today's digest when its hour has come and it was not sent yet today; the
    outbox row's id, or None."""
    hour = digest_hour(workspace.settings)
    if hour is None:
        return None
    _, zone = workspace_zone(session, workspace.id)
    local = now.astimezone(zone)
    if local.hour < hour:
        return None
    today = local.date().isoformat()
    # The last digests' days (in the entries' data, not their write time, so a clock
    # that is not the wall clock, as in tests and replays, counts days the same way).
    recent = session.scalars(
        select(AuditEntry.data)
        .where(AuditEntry.workspace_id == workspace.id, AuditEntry.action == SENT)
        .order_by(AuditEntry.id.desc())
        .limit(3)
    )
    already = any((data or {}).get("date") == today for data in recent)
    to = leads_and_marketing(session, workspace.id)
    if already or not to:
        return None
    settings = get_settings()
    digest = build_digest(session, workspace.id, local.date(), now)
    subject, body = digest_email(digest, workspace.name, settings.public_url)
    outbox_id = enqueue_email(
        session.connection(),
        workspace_id=workspace.id,
        recipients=to,
        subject=subject,
        body=body,
        now=now,
        smtp_configured=bool(settings.smtp_host),
    )
    audit(
        session,
        None,
        SENT,
        "workspace",
        workspace.id,
        workspace.id,
        {"date": today, "outbox_id": outbox_id, "recipients": len(to)},
    )
    return outbox_id


def send_due_digests(db: Database, now: datetime) -> list[int] | None:
    """One pass over the workspaces: the outbox rows queued (None: not our turn)."""
    with single_runner(db, "daily-digest") as mine:
        if not mine:
            return None
        with db.session() as s:
            workspace_ids = list(s.scalars(select(Workspace.id).order_by(Workspace.id)))
        queued = []
        for workspace_id in workspace_ids:
            with db.write() as s:
                workspace = s.get(Workspace, workspace_id)
                if workspace is not None and (row := send_digest_if_due(s, workspace, now)):
                    queued.append(row)
        return queued

"""``GET /live``: server-sent events telling open inbox pages what changed.

Two sources feed a stream: the in-process bus (agent actions publish after commit)
and a once-a-second look at the newest message id, which catches what the pipeline
ingests (webhooks, polling, replay — possibly in another process). Events carry ids
only; pages fetch what they show through the normal, permission-checked routes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from socialdesk.live import LiveEvent, bus
from socialdesk.store.db import Database
from socialdesk.store.models import Message
from socialdesk.web.sessions import PageUser, WebUser

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# Streams end after a while and the browser reconnects (EventSource does so by itself),
# so a server shutting down never waits long on an open stream.
STREAM_SECONDS = 120.0


def _newest_message_id(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.max(Message.id))) or 0)


def _tickets_since(database: Database, user: WebUser, after: int) -> tuple[int, list[int]]:
    with database.session() as s:
        rows = s.execute(
            select(Message.id, Message.ticket_id)
            .where(Message.id > after, Message.workspace_id.in_(user.workspace_ids))
            .order_by(Message.id)
            .limit(200)
        ).all()
    newest = max((r.id for r in rows), default=after)
    return newest, sorted({r.ticket_id for r in rows})


def _frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _translate(item: LiveEvent, user: WebUser) -> str | None:
    if item.workspace_id is not None and item.workspace_id not in user.workspace_ids:
        return None
    ticket_id = item.data.get("ticket_id")
    if item.kind == "presence.changed":
        if item.data.get("user_id") == user.id:
            return None
        return _frame("presence", {"ticket_id": ticket_id})
    return _frame("inbox", {"ticket_ids": [ticket_id] if ticket_id else [], "kind": item.kind})


async def _stream(request: Request, user: WebUser) -> AsyncIterator[str]:
    database: Database = request.app.state.db
    queue = bus.subscribe()
    try:
        last_id = await asyncio.to_thread(_newest_message_id, database)
        yield "retry: 1000\n" + _frame("ready", {"user_id": user.id})
        started = last_beat = last_poll = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=0.25)
            except TimeoutError:
                item = None
            if item is not None:
                frame = _translate(item, user)
                if frame:
                    yield frame
            now = time.monotonic()
            if now - last_poll >= POLL_SECONDS:
                last_poll = now
                if await request.is_disconnected():
                    return
                newest = await asyncio.to_thread(_newest_message_id, database)
                if newest > last_id:
                    _, tickets = await asyncio.to_thread(_tickets_since, database, user, last_id)
                    last_id = newest
                    if tickets:
                        yield _frame("inbox", {"ticket_ids": tickets, "kind": "ingested"})
            if now - last_beat >= HEARTBEAT_SECONDS:
                last_beat = now
                yield ": keep-alive\n\n"
    finally:
        bus.unsubscribe(queue)


@router.get("/live")
def live(request: Request, user: PageUser) -> StreamingResponse:
    return StreamingResponse(
        _stream(request, user),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

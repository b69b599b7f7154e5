from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.domain.enums import Direction, Platform, Visibility
from socialdesk.domain.messages import Author, InboundMessage
from socialdesk.pipeline.ingest import IngestResult, Pipeline
from socialdesk.store.db import Database

T0 = datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)
_ids = count(1000)


def make_account(db: Database, platform: Platform = Platform.X, handle: str = "AcmeSupport") -> int:
    with db.write() as s:
        ws = ensure_workspace(s)
        return create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=platform,
            handle=handle,
            external_id=f"{handle}-{next(_ids)}",
        ).id


def post(
    account: int,
    pid: str,
    body: str,
    *,
    author: str = "115712",
    minutes: float = 0,
    reply_to: str | None = None,
    outbound: bool = False,
    conversation: str | None = None,
    platform: Platform = Platform.X,
    references: tuple[str, ...] = (),
) -> InboundMessage:
    return InboundMessage(
        channel_account_id=account,
        platform=platform,
        platform_message_id=pid,
        author=Author(
            external_user_id="brand" if outbound else author, handle=author, follower_count=120
        ),
        body=body,
        created_at=T0 + timedelta(minutes=minutes),
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        visibility=Visibility.PRIVATE if conversation else Visibility.PUBLIC,
        reply_to_id=reply_to,
        conversation_id=conversation,
        references=references,
    )


def ingest(
    db: Database, *messages: InboundMessage, pipeline: Pipeline | None = None
) -> IngestResult:
    with db.write() as s:
        return (pipeline or Pipeline()).ingest(s.connection(), list(messages))

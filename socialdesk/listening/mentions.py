"""The Mentions stream: posts saved searches found, stored once per workspace, network
and post id (the payload as read kept with each), labelled by the inline triage, and
the actions an agent (or a rule) takes on one: make it a ticket, reply (a ticket and
its reply), or dismiss it. Making a ticket runs the post through the inbound pipeline
as if it had come in as a mention, so contact, threading, triage, rules, routing and
SLA treat it like any other post; doing it twice gives the same ticket."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from socialdesk.actions.inbox import ReplyOutcome, send_reply
from socialdesk.actions.recording import ActionError, audit
from socialdesk.actions.tickets import require_writer
from socialdesk.channels.search import FoundPost
from socialdesk.listening.queries import is_excluded
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.pipeline.ingest import Pipeline
from socialdesk.pipeline.polling import parse_polled
from socialdesk.store.db import utcnow
from socialdesk.store.models import ListeningMention, ListeningSearch, Message, Ticket, User
from socialdesk.triage.analysis import triage

STATUSES = ("new", "ticketed", "dismissed")
SENTIMENTS = ("negative", "neutral", "positive")
MAX_Q = 200


def message_json(found: FoundPost) -> dict[str, Any]:
    data: dict[str, Any] = asdict(found.message)
    data["created_at"] = found.message.created_at.isoformat()
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def store_found(
    session: Session, search: ListeningSearch, posts: Sequence[FoundPost]
) -> list[ListeningMention]:
    """The posts not yet in this workspace's Mentions and not excluded, as new mentions
    (labelled by the inline triage). A post two searches find is stored once."""
    exclusions = tuple(search.exclusions or ())
    wanted = [p for p in posts if not is_excluded(p.message.body, exclusions)]
    if not wanted:
        return []
    by_network: dict[str, set[str]] = {}
    for post in wanted:
        by_network.setdefault(str(post.message.platform), set()).add(
            post.message.platform_message_id
        )
    known: set[tuple[str, str]] = set()
    for platform, ids in by_network.items():
        known.update(
            (platform, post_id)
            for post_id in session.scalars(
                select(ListeningMention.platform_post_id).where(
                    ListeningMention.workspace_id == search.workspace_id,
                    ListeningMention.platform == platform,
                    ListeningMention.platform_post_id.in_(sorted(ids)),
                )
            )
        )
    stored = []
    for post in wanted:
        message = post.message
        key = (str(message.platform), message.platform_message_id)
        if key in known:
            continue
        known.add(key)
        # The payload first: everything below is derived from it and can be redone.
        mention = ListeningMention(
            workspace_id=search.workspace_id,
            search_id=search.id,
            channel_account_id=message.channel_account_id,
            platform=str(message.platform),
            platform_post_id=message.platform_message_id,
            author_id=message.author.external_user_id,
            author_handle=message.author.handle,
            author_name=message.author.display_name,
            body=message.body,
            reply_to_id=message.reply_to_id,
            posted_at=message.created_at,
            raw={"payload": post.payload, "message": message_json(post)},
            status="new",
            found_at=utcnow(),
        )
        labels = triage(message.body)
        mention.sentiment = labels.sentiment
        mention.sentiment_score = round(labels.sentiment_score, 4)
        mention.intent = labels.intent
        session.add(mention)
        stored.append(mention)
    session.flush()
    if stored:
        queue_live_event(
            session,
            LiveEvent("mention.found", search.workspace_id, {"ids": [m.id for m in stored]}),
        )
    return stored


@dataclass(frozen=True, slots=True)
class MentionFilter:
    workspace_ids: Sequence[int]
    q: str | None = None
    network: str | None = None
    sentiment: str | None = None
    status: str | None = "new"
    search_id: int | None = None
    before_id: int | None = None


def check_filter(f: MentionFilter) -> None:
    """ValueError with the reason for a filter value nobody could mean."""
    if f.q is not None and len(f.q) > MAX_Q:
        raise ValueError(f"q is at most {MAX_Q} characters")
    if f.q is not None and any(ord(c) < 32 for c in f.q):
        raise ValueError("q may not contain control characters")
    if f.sentiment is not None and f.sentiment not in SENTIMENTS:
        raise ValueError(f"sentiment: one of {', '.join(SENTIMENTS)}")
    if f.status is not None and f.status not in STATUSES:
        raise ValueError(f"status: one of {', '.join(STATUSES)}")
    if f.network is not None and f.network not in ("x", "mastodon", "bluesky"):
        raise ValueError("network: one of x, mastodon, bluesky")


def list_mentions(session: Session, f: MentionFilter, limit: int = 50) -> list[ListeningMention]:
    check_filter(f)
    query = select(ListeningMention).where(ListeningMention.workspace_id.in_(list(f.workspace_ids)))
    if f.status:
        query = query.where(ListeningMention.status == f.status)
    if f.network:
        query = query.where(ListeningMention.platform == f.network)
    if f.sentiment:
        query = query.where(ListeningMention.sentiment == f.sentiment)
    if f.search_id is not None:
        query = query.where(ListeningMention.search_id == f.search_id)
    if f.before_id is not None:
        query = query.where(ListeningMention.id < f.before_id)
    if f.q:
        pattern = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                ListeningMention.body.ilike(pattern, escape="\\"),
                ListeningMention.author_handle.ilike(pattern, escape="\\"),
            )
        )
    return list(session.scalars(query.order_by(ListeningMention.id.desc()).limit(limit)))


def mention_json(mention: ListeningMention) -> dict[str, Any]:
    return {
        "id": mention.id,
        "search_id": mention.search_id,
        "network": mention.platform,
        "channel_account_id": mention.channel_account_id,
        "platform_post_id": mention.platform_post_id,
        "author": {
            "id": mention.author_id,
            "handle": mention.author_handle,
            "name": mention.author_name,
        },
        "body": mention.body,
        "reply_to_id": mention.reply_to_id,
        "posted_at": mention.posted_at.isoformat(),
        "found_at": mention.found_at.isoformat(),
        "sentiment": mention.sentiment,
        "sentiment_score": mention.sentiment_score,
        "intent": mention.intent,
        "status": mention.status,
        "ticket_id": mention.ticket_id,
    }


def _announce(session: Session, mention: ListeningMention) -> None:
    queue_live_event(
        session,
        LiveEvent(
            "mention.changed",
            mention.workspace_id,
            {"mention_id": mention.id, "status": mention.status, "ticket_id": mention.ticket_id},
        ),
    )


def make_ticket(
    session: Session, actor: User | None, mention: ListeningMention, pipeline: Pipeline
) -> Ticket:
    """The mention as a ticket (``actor`` None: a rule). Idempotent: a mention already
    made a ticket gives that ticket; a post the desk already holds (it also tagged the
    brand) gives the ticket it is in."""
    if actor is not None:
        require_writer(actor)
    if mention.ticket_id is not None:
        ticket = session.get(Ticket, mention.ticket_id)
        if ticket is not None:
            return ticket
    if mention.status == "dismissed" and actor is None:
        raise ActionError("this mention was dismissed", 409)
    try:
        parsed = parse_polled(json.dumps(mention.raw.get("message") or {}).encode())
    except Exception as exc:  # a payload stored by an older version: say so, do not 500
        raise ActionError(f"this mention cannot be made a ticket: {exc}", 422) from exc
    pipeline.ingest(session.connection(), parsed.messages)
    ticket_id = session.scalar(
        select(Message.ticket_id).where(
            Message.channel_account_id == mention.channel_account_id,
            Message.platform_message_id == mention.platform_post_id,
        )
    )
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        raise ActionError("the post could not be stored as a ticket", 409)
    mention.ticket_id = ticket.id
    mention.status = "ticketed"
    mention.handled_by_user_id = actor.id if actor else None
    mention.handled_at = utcnow()
    audit(session, actor, "listening.mention_ticketed", "listening_mention", mention.id,
          mention.workspace_id, {"ticket_id": ticket.id, "by_rule": actor is None})  # fmt: skip
    _announce(session, mention)
    return ticket


def reply_to_mention(
    session: Session,
    actor: User,
    mention: ListeningMention,
    pipeline: Pipeline,
    body: str,
    *,
    confirm: bool = False,
) -> tuple[Ticket, ReplyOutcome]:
    """A ticket for the mention and the agent's public reply on it, through the one
    reply door (posting rights, approvals, the second-reply guard)."""
    require_writer(actor)
    if not body.strip():
        raise ActionError("write a reply", 422)
    ticket = make_ticket(session, actor, mention, pipeline)
    return ticket, send_reply(session, ticket, actor, body, confirm=confirm)


def dismiss_mention(session: Session, actor: User, mention: ListeningMention) -> None:
    require_writer(actor)
    if mention.status == "ticketed":
        raise ActionError("this mention is a ticket already", 409)
    if mention.status == "dismissed":
        return
    mention.status = "dismissed"
    mention.handled_by_user_id = actor.id
    mention.handled_at = utcnow()
    audit(session, actor, "listening.mention_dismissed", "listening_mention", mention.id,
          mention.workspace_id)  # fmt: skip
    _announce(session, mention)

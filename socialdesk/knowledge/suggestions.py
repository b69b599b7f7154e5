"""Suggestions for the composer: for a ticket's latest customer message, the articles
that answer it and the team's own answers to the most similar past questions.

Past answers come from the same workspace: each past customer message paired with the
first reply an agent sent on its ticket after it. They are adapted to the ticket at hand
(the earlier customer's @handle and first name, the earlier agent's `^AB` initials) and
measured against the network's length rule, so the agent sees at once whether one fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from socialdesk.domain.enums import Direction, Platform
from socialdesk.domain.length_rules import check_length
from socialdesk.knowledge import semantic
from socialdesk.knowledge.articles import readable, search
from socialdesk.knowledge.ranking import (
    HybridRanked,
    HybridWeights,
    bm25_scores,
    hybrid,
    scaled,
)
from socialdesk.knowledge.text import words
from socialdesk.store.models import (
    Article,
    Contact,
    ContactIdentity,
    Message,
    Ticket,
    User,
)

# How many past customer messages are compared (the newest first).
PAST_WINDOW = 3000
# Two customer posts are closer in the encoder's space than a post and an article (both
# short, same register), so a past question sharing no word must be closer to count.
ANSWER_WEIGHTS = HybridWeights(minimum=0.9)


@dataclass(frozen=True)
class ArticleSuggestion:
    article_id: int
    title: str
    score: float
    text_score: float
    semantic_score: float | None
    link: str | None  # the short link, counted under the ticket's network; None if internal
    text: str  # what "insert as text" puts in the reply
    fits: bool


@dataclass(frozen=True)
class AnswerSuggestion:
    ticket_id: int
    question: str
    answer: str
    score: float
    text_score: float
    semantic_score: float | None
    fits: bool


@dataclass(frozen=True)
class Suggestions:
    message_id: int | None
    query: str
    articles: list[ArticleSuggestion]
    answers: list[AnswerSuggestion]


def initials(name: str) -> str:
    parts = name.replace(".", " ").split()
    return "".join(p[0] for p in parts[:2]).upper()


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else ""


def adapt(
    text: str,
    *,
    old_handle: str = "",
    new_handle: str = "",
    old_name: str = "",
    new_name: str = "",
    old_initials: str = "",
    new_initials: str = "",
) -> str:
    """A past reply made fit for another customer and agent."""
    old_handle, new_handle = old_handle.lstrip("@"), new_handle.lstrip("@")
    if old_handle:
        pattern = re.compile(r"@" + re.escape(old_handle) + r"\b", re.IGNORECASE)
        text = pattern.sub(f"@{new_handle}" if new_handle else "", text)
    if old_name and len(old_name) > 1:
        pattern = re.compile(r"(?<![@\w])" + re.escape(old_name) + r"\b", re.IGNORECASE)
        text = pattern.sub(new_name or "there", text)
    if old_initials and new_initials:
        text = re.sub(r"\^" + re.escape(old_initials) + r"\b", f"^{new_initials}", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _handle(session: Session, contact_id: int | None, platform: str | None) -> str:
    if contact_id is None:
        return ""
    query = select(ContactIdentity.handle).where(ContactIdentity.contact_id == contact_id)
    if platform:
        query = query.where(ContactIdentity.platform == platform)
    return session.scalar(query.limit(1)) or ""


def _name(session: Session, contact_id: int | None, handle: str) -> str:
    """How a reply addresses the customer: the first name, else the handle."""
    contact = session.get(Contact, contact_id) if contact_id else None
    return (first_name(contact.display_name) if contact else "") or handle.lstrip("@")


def _fits(text: str, platform: str | None) -> bool:
    try:
        network = Platform(platform or "email")
    except ValueError:
        return True
    return check_length(text, network).fits


def suggest(
    session: Session, ticket: Ticket, agent: User, *, base_url: str, limit: int = 3
) -> Suggestions:
    latest = session.scalar(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if latest is None:
        return Suggestions(None, "", [], [])
    query = latest.body
    vector = _query_vector(session, latest)
    return Suggestions(
        message_id=latest.id,
        query=query,
        articles=_articles(session, ticket, agent, query, vector, base_url, limit),
        answers=_answers(session, ticket, agent, query, vector, limit),
    )


def _query_vector(session: Session, message: Message) -> np.ndarray | None:
    """The message's own embedding when the encoder pass stored one, else computed now
    (one text); None with the encoder off."""
    if not semantic.enabled():
        return None
    stored = session.scalar(select(Message.embedding).where(Message.id == message.id))
    return semantic.from_bytes(stored) if stored else semantic.query_vector(message.body)


def _articles(
    session: Session,
    ticket: Ticket,
    agent: User,
    query: str,
    vector: np.ndarray | None,
    base_url: str,
    limit: int,
) -> list[ArticleSuggestion]:
    statuses, visibilities = readable(agent)
    articles = session.scalars(
        select(Article).where(
            Article.workspace_id == ticket.workspace_id,
            Article.status == "published",
            Article.status.in_(statuses),
            Article.visibility.in_(visibilities),
        )
    ).all()
    out = []
    for hit in search(articles, query, vector=vector)[:limit]:
        article = hit.article
        link = None
        if article.visibility == "public":
            link = f"{base_url.rstrip('/')}/h/{article.short_code}?c={ticket.platform}"
        summary = (article.summaries or {}).get(ticket.platform or "", "")
        text = " ".join(part for part in (summary or article.title, link) if part)
        out.append(
            ArticleSuggestion(
                article.id,
                article.title,
                hit.score,
                hit.text_score,
                hit.semantic_score,
                link,
                text,
                _fits(text, ticket.platform),
            )
        )
    return out


def _answers(
    session: Session,
    ticket: Ticket,
    agent: User,
    query: str,
    vector: np.ndarray | None,
    limit: int,
) -> list[AnswerSuggestion]:
    asked = words(query)
    if not asked and vector is None:
        return []
    past = session.scalars(
        select(Message)
        # The stored embeddings are read only when they are used.
        .options(*([undefer(Message.embedding)] if vector is not None else []))
        .where(
            Message.workspace_id == ticket.workspace_id,
            Message.direction == Direction.INBOUND,
            Message.ticket_id != ticket.id,
        )
        .order_by(Message.id.desc())
        .limit(PAST_WINDOW)
    ).all()
    if not past:
        return []
    replies = session.scalars(
        select(Message)
        .where(
            Message.ticket_id.in_({m.ticket_id for m in past}),
            Message.direction == Direction.OUTBOUND,
            Message.author_user_id.is_not(None),
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    by_ticket: dict[int, list[Message]] = {}
    for reply in replies:
        by_ticket.setdefault(reply.ticket_id, []).append(reply)

    def answer_to(message: Message) -> Message | None:
        return next(
            (r for r in by_ticket.get(message.ticket_id, []) if r.created_at >= message.created_at),
            None,
        )

    answered = [(m, a) for m in past if (a := answer_to(m)) is not None]
    ranked = _rank_answers([m for m, _ in answered], asked, vector)
    new_handle = _handle(session, ticket.contact_id, ticket.platform)
    new_name = _name(session, ticket.contact_id, new_handle)
    out: list[AnswerSuggestion] = []
    seen: set[str] = set()
    for found in ranked:
        if len(out) >= limit:
            break
        message, reply = answered[int(found.key)]
        author = session.get(User, reply.author_user_id) if reply.author_user_id else None
        old_handle = _handle(session, message.author_contact_id, message.platform)
        text = adapt(
            reply.body,
            old_handle=old_handle,
            new_handle=new_handle,
            old_name=_name(session, message.author_contact_id, old_handle),
            new_name=new_name,
            old_initials=initials(author.name) if author and author.name else "",
            new_initials=initials(agent.name or agent.email.split("@")[0]),
        )
        if text in seen:
            continue
        seen.add(text)
        out.append(
            AnswerSuggestion(
                message.ticket_id,
                message.body,
                text,
                round(found.score, 4),
                round(found.text_score, 4),
                found.semantic_score,
                _fits(text, ticket.platform),
            )
        )
    return out


def _rank_answers(
    past: list[Message], asked: list[str], vector: np.ndarray | None
) -> list[HybridRanked]:
    """Past questions best first: BM25 over their words, plus the cosine of their stored
    embeddings (the triage encoder pass's) when the encoder is on."""
    keys = [str(i) for i in range(len(past))]
    raw = bm25_scores([words(m.body) for m in past], asked) if asked else [0.0] * len(past)
    text = scaled(dict(zip(keys, raw, strict=True)))
    matched = {key for key, score in zip(keys, raw, strict=True) if score > 0}
    cosines: dict[str, float] | None = None
    if vector is not None:
        embedded = [(key, m.embedding) for key, m in zip(keys, past, strict=True) if m.embedding]
        if embedded:
            matrix = np.stack([semantic.from_bytes(blob) for _, blob in embedded])
            similarity = matrix @ vector.astype(np.float32)
            cosines = {key: float(s) for (key, _), s in zip(embedded, similarity, strict=True)}
    return hybrid(keys, text, matched, cosines, ANSWER_WEIGHTS)

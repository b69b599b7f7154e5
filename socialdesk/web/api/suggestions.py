"""Suggestions for a ticket's reply: the articles and the team's past answers that fit
its latest customer message, ranked with their scores (knowledge/suggestions.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from socialdesk.knowledge.suggestions import suggest
from socialdesk.store.models import Ticket
from socialdesk.web.api.params import IdPath
from socialdesk.web.deps import CurrentUser, ReadSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/tickets", tags=["tickets"])


class ArticleOut(BaseModel):
    article_id: int
    title: str
    # The combined score, its full-text part (BM25 scaled to 0..1) and the embeddings'
    # cosine (None while the encoder is off or nothing is embedded).
    score: float
    text_score: float
    semantic_score: float | None
    link: str | None
    text: str
    fits: bool


class AnswerOut(BaseModel):
    ticket_id: int
    question: str
    answer: str
    score: float
    text_score: float
    semantic_score: float | None
    fits: bool


class SuggestionsOut(BaseModel):
    message_id: int | None
    query: str
    articles: list[ArticleOut]
    answers: list[AnswerOut]


@router.get("/{ticket_id}/suggestions", response_model=SuggestionsOut)
def suggestions(
    ticket_id: IdPath, request: Request, session: ReadSession, user: CurrentUser
) -> dict[str, Any]:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"ticket {ticket_id} not found")
    found = suggest(session, ticket, user, base_url=str(request.base_url))
    return asdict(found)

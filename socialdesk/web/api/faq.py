"""The FAQ finder over the API: the customers' most frequent questions of a period,
clustered (knowledge/faq.py), for admins and leads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from socialdesk.domain.enums import Role
from socialdesk.knowledge.faq import MAX_QUESTIONS
from socialdesk.knowledge.faq_report import (
    FaqReport,
    PeriodError,
    draft_from,
    frequent_questions,
    parse_period,
)
from socialdesk.store.models import ChannelAccount, User
from socialdesk.web.api.params import DbId
from socialdesk.web.deps import CurrentUser, ReadSession, require_role, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/kb", tags=["knowledge base"])
Text = Annotated[str | None, Query(max_length=64)]
# How many message and ticket ids each cluster lists (its volume counts them all).
LISTED = 50


class CoverageOut(BaseModel):
    kind: str
    id: int
    title: str
    similarity: float


class DraftOut(BaseModel):
    title: str
    body: str


class ClusterOut(BaseModel):
    label: str
    terms: list[str]
    volume: int
    examples: list[str]
    message_ids: list[int]
    ticket_ids: list[int]
    covered_by: CoverageOut | None
    draft: DraftOut


class FaqOut(BaseModel):
    questions: int
    capped: bool
    max_questions: int
    clusters: list[ClusterOut]


def faq_report(
    session: Session,
    user: User,
    *,
    since: str | None,
    until: str | None,
    account_id: int | None,
    limit: int,
    topic: str | None = None,
) -> FaqReport:
    """The report for the API and the page: refused (4xx with the reason) unless the
    reader is an admin or lead, the period reads and the account is theirs."""
    require_role(user, Role.ADMIN, Role.LEAD)
    allowed = workspace_ids(session, user)
    try:
        start, end = parse_period(since, until)
    except PeriodError as exc:
        raise ApiError(422, str(exc)) from None
    if account_id is not None:
        account = session.get(ChannelAccount, account_id)
        if account is None or account.workspace_id not in allowed:
            raise ApiError(404, f"channel account {account_id} not found")
    return frequent_questions(
        session,
        allowed,
        since=start,
        until=end,
        account_id=account_id,
        topic=(topic or "").strip() or None,
        limit=limit,
    )


@router.get("/faq", response_model=FaqOut, summary="The customers' most frequent questions")
def get_faq(
    session: ReadSession,
    user: CurrentUser,
    since: Text = None,
    until: Text = None,
    account_id: DbId | None = None,
    topic: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Clusters of the customer messages received in `[since, until)` (dates or ISO 8601
    times, UTC without an offset; all time by default), optionally on one channel account
    and one triage `topic` (the message's, or its ticket's as an agent corrected it):
    the newest 10,000 are read. Each cluster has its volume, label, three examples, the
    published article or canned answer that covers it (if any) and a draft pre-filled
    from the team's most typical replies to it."""
    report = faq_report(
        session, user, since=since, until=until, account_id=account_id, limit=limit, topic=topic
    )
    clusters = []
    for cluster in report.clusters:
        draft = draft_from(session, cluster)
        covered = cluster.covered_by
        clusters.append(
            {
                "label": cluster.label,
                "terms": list(cluster.terms),
                "volume": cluster.volume,
                "examples": list(cluster.examples),
                "message_ids": list(cluster.members[:LISTED]),
                "ticket_ids": list(cluster.tickets[:LISTED]),
                "covered_by": None
                if covered is None
                else {
                    "kind": covered.kind,
                    "id": covered.key,
                    "title": covered.title,
                    "similarity": covered.similarity,
                },
                "draft": {"title": draft.title, "body": draft.body},
            }
        )
    return {
        "questions": report.questions,
        "capped": report.capped,
        "max_questions": MAX_QUESTIONS,
        "clusters": clusters,
    }

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from socialdesk.actions.contacts import merge_contacts
from socialdesk.store.models import Contact, ContactIdentity, User
from socialdesk.store.repos.tickets import TicketFilter, identities_of, list_tickets, tags_for
from socialdesk.web.api.params import IdPath, TicketCursor
from socialdesk.web.api.schemas import (
    ContactOut,
    ContactPage,
    IdentityOut,
    MergeRequest,
    TicketPage,
)
from socialdesk.web.api.tickets import _summary
from socialdesk.web.deps import CurrentUser, ReadSession, WriteSession, workspace_ids
from socialdesk.web.errors import ApiError

router = APIRouter(prefix="/contacts", tags=["contacts"])


def _load(session: Session, user: User, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.workspace_id not in workspace_ids(session, user):
        raise ApiError(404, f"contact {contact_id} not found")
    return contact


def _out(session: Session, contact: Contact) -> ContactOut:
    out = ContactOut.model_validate(contact)
    out.identities = [IdentityOut.model_validate(i) for i in identities_of(session, contact.id)]
    return out


@router.get("", response_model=ContactPage)
def list_(
    session: ReadSession,
    user: CurrentUser,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> ContactPage:
    query = select(Contact).where(
        Contact.workspace_id.in_(workspace_ids(session, user)), Contact.merged_into_id.is_(None)
    )
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(
            or_(
                Contact.display_name.ilike(pattern),
                Contact.email.ilike(pattern),
                exists().where(
                    ContactIdentity.contact_id == Contact.id,
                    or_(
                        ContactIdentity.handle.ilike(pattern),
                        ContactIdentity.external_user_id == q.strip(),
                    ),
                ),
            )
        )
    contacts = session.scalars(query.order_by(Contact.id.desc()).limit(limit)).all()
    return ContactPage(data=[_out(session, c) for c in contacts])


@router.get("/{contact_id}", response_model=ContactOut)
def detail(contact_id: IdPath, session: ReadSession, user: CurrentUser) -> ContactOut:
    return _out(session, _load(session, user, contact_id))


@router.get("/{contact_id}/tickets", response_model=TicketPage)
def tickets(
    contact_id: IdPath,
    session: ReadSession,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: TicketCursor = None,
) -> TicketPage:
    contact = _load(session, user, contact_id)
    rows, next_cursor = list_tickets(
        session,
        TicketFilter(workspace_ids=[contact.workspace_id], contact_id=contact.id),
        limit=limit,
        cursor=cursor,
    )
    tags = tags_for(session, [r.id for r in rows])
    return TicketPage(data=[_summary(r, tags[r.id]) for r in rows], next_cursor=next_cursor)


@router.post("/{contact_id}/merge", response_model=ContactOut)
def merge(
    contact_id: IdPath, body: MergeRequest, session: WriteSession, user: CurrentUser
) -> ContactOut:
    survivor = _load(session, user, contact_id)
    other = _load(session, user, body.other_contact_id)
    merge_contacts(session, user, survivor, other)
    session.flush()
    return _out(session, survivor)

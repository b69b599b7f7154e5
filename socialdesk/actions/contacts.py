from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit
from socialdesk.actions.tickets import require_writer
from socialdesk.store.models import Contact, ContactIdentity, Message, Ticket, User


def merge_contacts(
    session: Session, actor: User | None, survivor: Contact, other: Contact
) -> Contact:
    """One person, several identities: move everything of ``other`` onto ``survivor``."""
    if actor is not None:
        require_writer(actor)
    if survivor.id == other.id:
        raise ActionError("cannot merge a contact into itself", 422)
    if survivor.workspace_id != other.workspace_id:
        raise ActionError("contacts of different workspaces cannot be merged", 422)
    if other.merged_into_id is not None:
        raise ActionError(f"contact {other.id} was already merged into {other.merged_into_id}", 409)
    session.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == other.id)
        .values(contact_id=survivor.id)
    )
    session.execute(
        update(Ticket).where(Ticket.contact_id == other.id).values(contact_id=survivor.id)
    )
    session.execute(
        update(Message)
        .where(Message.author_contact_id == other.id)
        .values(author_contact_id=survivor.id)
    )
    if not survivor.email and other.email:
        survivor.email = other.email
    survivor.vip = survivor.vip or other.vip
    other.merged_into_id = survivor.id
    audit(
        session,
        actor,
        "contact.merged",
        "contact",
        survivor.id,
        survivor.workspace_id,
        {"merged": other.id},
    )
    return survivor

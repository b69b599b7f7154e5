"""Where an e-mail reply to a ticket's customer goes: the address (their newest e-mail
identity or the contact's e-mail), the account it leaves from, and the subject."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.domain.enums import (
    AccountStatus,
    Platform,
)
from socialdesk.store.models import (
    ChannelAccount,
    Contact,
    ContactIdentity,
    Ticket,
)


@dataclass(frozen=True, slots=True)
class EmailRoute:
    """Where an e-mail reply to this ticket's customer goes out from, and to."""

    account_id: int
    address: str


def email_subject(ticket_subject: str, first_body: str | None) -> str:
    """ "Re: <ticket subject>" (or its first line when it has none), never "Re: Re:"."""
    subject = " ".join((ticket_subject or "").split())
    if not subject:
        first = next((line.strip() for line in (first_body or "").splitlines() if line.strip()), "")
        subject = first[:120] or "your message"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def email_address_of(
    identities: Iterable[ContactIdentity], contact_email: str | None
) -> str | None:
    """The customer's address: their newest e-mail identity, else the contact's e-mail."""
    found = [i for i in identities if i.platform == Platform.EMAIL and "@" in i.external_user_id]
    if found:
        return max(found, key=lambda i: i.id).external_user_id
    return contact_email if contact_email and "@" in contact_email else None


def email_route(session: Session, ticket: Ticket) -> EmailRoute | None:
    """The e-mail reply route, when the customer has an address and the workspace an
    active e-mail account (see ``email_route_to``)."""
    if ticket.contact_id is None:
        return None
    identities = session.scalars(
        select(ContactIdentity).where(
            ContactIdentity.contact_id == ticket.contact_id,
            ContactIdentity.platform == str(Platform.EMAIL),
        )
    )
    contact_email = session.scalar(select(Contact.email).where(Contact.id == ticket.contact_id))
    return email_route_to(session, ticket, email_address_of(identities, contact_email))


def email_route_to(session: Session, ticket: Ticket, address: str | None) -> EmailRoute | None:
    """Replies to ``address`` go out from the ticket's own e-mail account when it came
    in by e-mail, else the workspace's first active one; None without either."""
    if not address:
        return None
    accounts = list(
        session.scalars(
            select(ChannelAccount.id)
            .where(
                ChannelAccount.workspace_id == ticket.workspace_id,
                ChannelAccount.platform == str(Platform.EMAIL),
                ChannelAccount.status == str(AccountStatus.ACTIVE),
            )
            .order_by(ChannelAccount.id)
        )
    )
    if not accounts:
        return None
    chosen = ticket.channel_account_id if ticket.channel_account_id in accounts else accounts[0]
    return EmailRoute(chosen, address)

"""Full-text search over tickets: the one place that knows how each backend indexes text.

SQLite: FTS5 tables (migration 0020) with external content, kept current by triggers
on ``messages``, ``tickets``, ``contacts`` and ``contact_identities``, so every writer
(the pipeline's Core bulk inserts, actions, edits) indexes what it writes in the same
transaction. PostgreSQL: GIN indexes on ``to_tsvector('simple', …)`` expressions of the
same columns (``simple``: no stemming and no stop words, so brand names, handles and
non-English words match as typed). Senders (``@handle``, ``from:``) use b-tree indexes
on ``lower(handle)`` and ``lower(email)``.

``ticket_condition`` returns a condition on ``tickets`` that is compiled per dialect
when the statement runs, so callers (the API list, the inbox pages, saved filter
counts) stay backend-agnostic and need no session to build it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    String,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import quoted_name
from sqlalchemy.sql.visitors import InternalTraversal

from socialdesk.domain.search_query import SearchQuery, SearchQueryError, parse_search
from socialdesk.store.models import Contact, ContactIdentity, Message, Ticket

# The indexed text of each table, as spelled in migration 0020's PostgreSQL indexes: a
# query uses the index only if its expression is the same, character for character.
PG_DOCUMENTS: dict[str, str] = {
    "messages": "coalesce(subject, '') || ' ' || body",
    "tickets": "subject",
    "contacts": "coalesce(display_name, '') || ' ' || coalesce(email, '')",
    "contact_identities": "coalesce(handle, '') || ' ' || coalesce(display_name, '')",
}
# SQLite: the FTS5 table over each content table, and its indexed columns.
FTS_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "messages": ("messages_fts", ("subject", "body")),
    "tickets": ("tickets_fts", ("subject",)),
    "contacts": ("contacts_fts", ("display_name", "email")),
    "contact_identities": ("contact_identities_fts", ("handle", "display_name")),
}


# Matched message ids to their tickets through a narrow covering index (id, ticket_id)
# rather than the table's own rows, which hold the bodies: ten times fewer pages read
# for a common word. SQLite picks the rowid b-tree on its own, hence INDEXED BY.
_MESSAGES_BY_ID = table(quoted_name("messages INDEXED BY ix_messages_search_ticket", False))


def ticket_condition(query: SearchQuery) -> ColumnElement[bool]:
    """Tickets matching every term of ``query`` (see ``domain.search_query``)."""
    if query.empty:
        return false()
    return _TicketSearch(query)


def text_condition(text: str | None) -> ColumnElement[bool] | None:
    """The condition for a search box's text, or None when there is nothing to search.
    Text that cannot be parsed matches nothing here; the API and the pages parse it
    first (``parse_search``) to tell the user why."""
    if not text or not text.strip():
        return None
    try:
        return ticket_condition(parse_search(text))
    except SearchQueryError:
        return false()


class _TicketSearch(ColumnElement[bool]):
    """Compiled per dialect. The statement cache keys on the query's shape (how many
    terms, which are prefixes, how many senders, which channels) and the words are bound
    parameters in the statement, so one cached compilation serves every search of the
    same shape (compiling these subqueries costs tens of milliseconds)."""

    inherit_cache = True
    _traverse_internals = [
        ("shape", InternalTraversal.dp_plain_obj),
        ("binds", InternalTraversal.dp_clauseelement_list),
    ]
    type = Boolean()
    # A condition, not a boolean column: without this, SQLite would get "(…) = 1", which
    # hides the IN lists from its planner.
    _is_implicitly_boolean = True

    def __init__(self, query: SearchQuery) -> None:
        self.shape = (
            tuple(term.prefix for term in query.terms),
            tuple("@" in sender for sender in query.senders),
            tuple(sorted(query.channels)),
        )
        values = [term.text for term in query.terms]
        for sender in query.senders:
            values += [sender, "@" + sender]
        self.binds = [bindparam(None, value, String(), unique=True) for value in values]


@compiles(_TicketSearch)
def _compile(element: _TicketSearch, compiler: SQLCompiler, **kw: Any) -> str:
    postgres = compiler.dialect.name == "postgresql"
    prefixes, senders, channels = element.shape
    binds = iter(element.binds)
    t = Ticket
    parts: list[ColumnElement[bool]] = []
    if channels:
        # Platform names from the parser's fixed list, safe to render inline.
        parts.append(t.platform.in_([literal_column(f"'{c}'") for c in channels]))
    for prefix in prefixes:
        parts.append(t.id.in_(_term_tickets(next(binds), prefix, postgres)))
    for by_address in senders:
        handle, at_handle = next(binds), next(binds)
        parts.append(t.contact_id.in_(_sender_contacts(handle, at_handle, by_address)))
    return compiler.process(and_(*parts), **kw)


def _term_tickets(text: Any, prefix: bool, postgres: bool) -> Any:
    """Ids of tickets where the term occurs in a message, the subject or the customer."""
    # Aliases and correlate(None): the list query around this also reads tickets and
    # contacts, and a correlated subquery would search only the current row.
    owner, person, identity = aliased(Ticket), aliased(Contact), aliased(ContactIdentity)
    if postgres:
        tsquery = _pg_tsquery(text, prefix)
        in_messages = select(Message.ticket_id).where(_pg_match("messages", tsquery))
        in_subjects = select(owner.id).where(_pg_match("tickets", tsquery))
        contacts = select(person.id).where(_pg_match("contacts", tsquery))
        identities = select(identity.contact_id).where(_pg_match("contact_identities", tsquery))
    else:
        fts = _fts_phrase(text, prefix)
        in_messages = (
            select(literal_column("ticket_id"))
            .select_from(_MESSAGES_BY_ID)
            .where(literal_column("id").in_(_fts_rowids("messages", fts)))
        )
        in_subjects = select(owner.id).where(owner.id.in_(_fts_rowids("tickets", fts)))
        contacts = select(person.id).where(person.id.in_(_fts_rowids("contacts", fts)))
        identities = select(identity.contact_id).where(
            identity.id.in_(_fts_rowids("contact_identities", fts))
        )
    customer = aliased(Ticket)
    of_customers = select(customer.id).where(
        customer.contact_id.in_(union_all(contacts.correlate(None), identities.correlate(None)))
    )
    return union_all(
        in_messages.correlate(None), in_subjects.correlate(None), of_customers.correlate(None)
    )


def _sender_contacts(handle: Any, at_handle: Any, by_address: bool) -> Any:
    """Contacts with this handle (stored with or without "@") or e-mail address."""
    identity, person = aliased(ContactIdentity), aliased(Contact)
    by_handle = (
        select(identity.contact_id)
        .where(func.lower(identity.handle).in_([handle, at_handle]))
        .correlate(None)
    )
    if not by_address:
        return by_handle
    by_email = select(person.id).where(func.lower(person.email) == handle).correlate(None)
    return union_all(by_handle, by_email)


def _fts_phrase(text: Any, prefix: bool) -> Any:
    """The FTS5 query for one term, built in SQL from the bound text: always one quoted
    string, so no user text is FTS5 syntax ("" is FTS5's escaped quote); a prefix adds
    ``*`` outside the quotes."""
    quote: ColumnElement[str] = literal_column("'\"'")
    escaped = func.replace(text, quote, literal_column("'\"\"'"))
    closing: ColumnElement[str] = literal_column("'\"*'" if prefix else "'\"'")
    return quote.concat(escaped).concat(closing)


def _fts_rowids(content: str, match: Any) -> Any:
    name, _columns = FTS_TABLES[content]
    fts = table(name, literal_column("rowid"))
    return (
        select(literal_column("rowid"))
        .select_from(fts)
        .where(literal_column(name).op("MATCH")(match))
        .correlate(None)
    )


def _pg_tsquery(text: Any, prefix: bool) -> ColumnElement[Any]:
    simple: ColumnElement[str] = literal_column("'simple'")
    if prefix:
        # Prefix terms are plain letters and digits (the parser guarantees it), so the
        # quoted lexeme cannot carry tsquery syntax.
        lexeme = literal_column("''''").concat(text).concat(literal_column("''':*'"))
        return func.to_tsquery(simple, lexeme)
    return func.phraseto_tsquery(simple, text)


def _pg_match(content: str, tsquery: ColumnElement[Any]) -> ColumnElement[bool]:
    document = func.to_tsvector(
        literal_column("'simple'"), literal_column(f"({PG_DOCUMENTS[content]})")
    )
    return document.op("@@")(tsquery)


__all__ = ["SearchQueryError", "parse_search", "text_condition", "ticket_condition"]

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

import math
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
from sqlalchemy.orm import Session, aliased
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


# many_matches: walk the list when every word is in at least this many messages, or
# WALK_FACTOR times the square root of the message count if larger (at 200,000
# messages: 894; at 1,000,000: 2,000).
WALK_MIN_MATCHES = 500
WALK_FACTOR = 2.0

# Matched message ids to their tickets through a narrow covering index (id, ticket_id)
# rather than the table's own rows, which hold the bodies: ten times fewer pages read
# for a common word. SQLite picks the rowid b-tree on its own, hence INDEXED BY.
_MESSAGES_BY_ID = table(quoted_name("messages INDEXED BY ix_messages_search_ticket", False))


def ticket_condition(query: SearchQuery, *, walk: bool = False) -> ColumnElement[bool]:
    """Tickets matching every term of ``query`` (see ``domain.search_query``).

    ``walk`` changes the plan, never the result: the list walks its own index in order
    and probes the match set (hashed once) for each ticket, stopping at the page size,
    instead of reading and sorting every matching ticket. Only worth it when the terms
    match many tickets (``many_matches``); for a rare word it would walk every ticket."""
    if query.empty:
        return false()
    return _TicketSearch(query, walk=walk)


def text_condition(text: str | None, *, walk: bool = False) -> ColumnElement[bool] | None:
    """The condition for a search box's text, or None when there is nothing to search.
    Text that cannot be parsed matches nothing here; the API and the pages parse it
    first (``parse_search``) to tell the user why."""
    if not text or not text.strip():
        return None
    try:
        return ticket_condition(parse_search(text), walk=walk)
    except SearchQueryError:
        return false()


def narrows(text: str | None) -> bool:
    """Whether ``text`` has words or senders, the parts matched through a subquery (a
    channel alone is a plain condition on ``tickets``)."""
    if not text or not text.strip():
        return False
    try:
        query = parse_search(text)
    except SearchQueryError:
        return False
    return not query.empty and bool(query.terms or query.senders)


def many_matches(session: Session, text: str | None) -> bool:
    """Whether every word of ``text`` is in enough messages that walking the list in
    order finds a page sooner than sorting the matches (``ticket_condition(walk=True)``).

    Walking reads about page / share tickets, sorting about matches, so walking wins
    once matches exceed roughly the square root of the message count (times a constant
    for the page size). Each count is LIMITed at that threshold, so a common word costs
    no more than the threshold's rowids; the message count is the largest id, a
    b-tree lookup."""
    if not text or not text.strip():
        return False
    try:
        query = parse_search(text)
    except SearchQueryError:
        return False
    if query.empty or not query.terms:
        return False
    largest = session.scalar(select(func.max(Message.id))) or 0
    threshold = max(WALK_MIN_MATCHES, int(WALK_FACTOR * math.sqrt(largest)))
    postgres = session.get_bind().dialect.name == "postgresql"
    for term in query.terms:
        text_bind = bindparam(None, term.text, String(), unique=True)
        if postgres:
            # A phrase counts as its words (an upper bound): a phrase match rechecks each
            # heap row, which cost ~90 ms for 2,000 rows at 1,000,000 messages.
            tsquery = (
                _pg_tsquery(text_bind, True)
                if term.prefix
                else func.plainto_tsquery(literal_column("'simple'"), text_bind)
            )
            matches: Any = (
                select(literal_column("1"))
                .select_from(Message)
                .where(_pg_match("messages", tsquery))
            )
        else:
            matches = _fts_rowids("messages", _fts_phrase(text_bind, term.prefix))
        counted = session.scalar(
            select(func.count()).select_from(matches.limit(threshold).subquery())
        )
        # Every word must match: the rarest one bounds the match set.
        if (counted or 0) < threshold:
            return False
    return True


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

    def __init__(self, query: SearchQuery, *, walk: bool = False) -> None:
        self.shape = (
            tuple(term.prefix for term in query.terms),
            tuple("@" in sender for sender in query.senders),
            tuple(sorted(query.channels)),
            walk,
        )
        values = [term.text for term in query.terms]
        for sender in query.senders:
            values += [sender, "@" + sender]
        self.binds = [bindparam(None, value, String(), unique=True) for value in values]


@compiles(_TicketSearch)
def _compile(element: _TicketSearch, compiler: SQLCompiler, **kw: Any) -> str:
    postgres = compiler.dialect.name == "postgresql"
    prefixes, senders, channels, walk = element.shape
    binds = iter(element.binds)
    t = Ticket
    parts: list[ColumnElement[bool]] = []
    if channels:
        # Platform names from the parser's fixed list, safe to render inline.
        parts.append(t.platform.in_([literal_column(f"'{c}'") for c in channels]))
    for prefix in prefixes:
        found = _term_tickets(next(binds), prefix, postgres)
        if not walk:
            parts.append(t.id.in_(found))
        elif postgres:
            # Not a top-level IN, so not turned into a join: a hashed subplan the
            # index walk probes per ticket (coalesce keeps IN's NULL-free result).
            parts.append(func.coalesce(t.id.in_(found), false()))
        else:
            # SQLite: a unary + makes the column unusable as an index key, so the
            # planner cannot drive the query from the matches and walks the list's
            # index, probing the IN list (built once) per ticket.
            parts.append(literal_column("+tickets.id").in_(found))
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


__all__ = [
    "SearchQueryError",
    "many_matches",
    "narrows",
    "parse_search",
    "text_condition",
    "ticket_condition",
]

"""full-text search: FTS5 tables (SQLite) or GIN tsvector indexes (PostgreSQL) over
messages, ticket subjects, contacts and their identities; sender lookups by lower()

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 17:00:00

SQLite keeps the FTS5 tables current with triggers, so every write path (Core bulk
inserts included) indexes in the same transaction. A later migration that rebuilds one
of these tables with ``batch_alter_table`` (copy, drop, rename) drops its triggers with
it and must create them again (``sqlite_triggers`` below) and rebuild the index.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# content table -> (FTS5 table, indexed columns). Kept equal to store/search.py.
FTS_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "messages": ("messages_fts", ("subject", "body")),
    "tickets": ("tickets_fts", ("subject",)),
    "contacts": ("contacts_fts", ("display_name", "email")),
    "contact_identities": ("contact_identities_fts", ("handle", "display_name")),
}
# content table -> (index name, the document expression). Kept equal to store/search.py.
PG_DOCUMENTS: dict[str, tuple[str, str]] = {
    "messages": ("ix_messages_search", "coalesce(subject, '') || ' ' || body"),
    "tickets": ("ix_tickets_search", "subject"),
    "contacts": ("ix_contacts_search", "coalesce(display_name, '') || ' ' || coalesce(email, '')"),
    "contact_identities": (
        "ix_contact_identities_search",
        "coalesce(handle, '') || ' ' || coalesce(display_name, '')",
    ),
}


def sqlite_triggers(content: str) -> list[str]:
    fts, columns = FTS_TABLES[content]
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {content} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {content} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {content} BEGIN {delete} {insert} END",
    ]


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_contact_identities_handle_lower ON contact_identities (lower(handle))"
    )
    op.execute("CREATE INDEX ix_contacts_email_lower ON contacts (lower(email))")
    if op.get_bind().dialect.name == "postgresql":
        for content, (index, document) in PG_DOCUMENTS.items():
            op.execute(
                f"CREATE INDEX {index} ON {content} USING gin (to_tsvector('simple', {document}))"
            )
        return
    # Matched message ids to tickets without reading the bodies (store/search.py).
    op.execute("CREATE INDEX ix_messages_search_ticket ON messages (id, ticket_id)")
    for content, (fts, columns) in FTS_TABLES.items():
        # unicode61 folds case and (remove_diacritics 2) accents: "Café" finds "cafe".
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, content='{content}',"
            " content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for statement in sqlite_triggers(content):
            op.execute(statement)
        # Rows written before this migration.
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index, _document in PG_DOCUMENTS.values():
            op.execute(f"DROP INDEX IF EXISTS {index}")
    else:
        for fts, _columns in FTS_TABLES.values():
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        op.execute("DROP INDEX IF EXISTS ix_messages_search_ticket")
    op.execute("DROP INDEX IF EXISTS ix_contacts_email_lower")
    op.execute("DROP INDEX IF EXISTS ix_contact_identities_handle_lower")

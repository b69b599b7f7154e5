"""Customers: one contact per person, one identity per network they wrote from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # Search (store/search.py, migration 0020): from:address, and words in names and
        # addresses (SQLite uses the FTS5 table contacts_fts).
        Index("ix_contacts_email_lower", text("lower(email)")),
        Index(
            "ix_contacts_search",
            text("to_tsvector('simple', coalesce(display_name, '') || ' ' || coalesce(email, ''))"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), default=None, index=True)
    vip: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # After a merge the loser points at the survivor; lookups follow the pointer.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = created_at_column()


class ContactIdentity(Base):
    __tablename__ = "contact_identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "external_user_id"),
        # Search (store/search.py, migration 0020): @handle, and words in handles and names
        # (SQLite uses the FTS5 table contact_identities_fts).
        Index("ix_contact_identities_handle_lower", text("lower(handle)")),
        Index(
            "ix_contact_identities_search",
            text(
                "to_tsvector('simple', coalesce(handle, '') || ' ' || coalesce(display_name, ''))"
            ),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    external_user_id: Mapped[str] = mapped_column(String(320))
    handle: Mapped[str | None] = mapped_column(String(320), default=None)
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    follower_count: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = created_at_column()

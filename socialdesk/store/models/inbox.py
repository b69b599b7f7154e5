"""The agent inbox: browser sessions, sign-in lockout, canned responses, posting rights,
the approval queue for replies drafted by users who may not post, and saved filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class WebSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AuthThrottle(Base):
    """Failed sign-ins per key (``account:<email>`` or ``address:<client ip>``), counted
    over a window; enough of them lock the key for a while (``auth/throttle.py``)."""

    __tablename__ = "auth_throttles"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class CannedResponse(Base):
    """A saved answer, inserted in the composer by typing ``/shortcut``.

    ``body`` may use ``{first_name}``, ``{name}``, ``{handle}``, ``{agent_name}`` and
    ``{agent_initials}``; ``short_body`` is used on networks with small limits.
    """

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("workspace_id", "shortcut"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    shortcut: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    short_body: Mapped[str | None] = mapped_column(Text, default=None)
    category: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # Replies sent with it (the reply action counts them); never-used ones show in reports.
    usage_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = created_at_column()


class PostingRight(Base):
    """Whether a user may post on a channel account. Admins and leads always may; other
    writers may unless a row says ``can_post = False``, in which case their replies on
    that account go to the approval queue."""

    __tablename__ = "posting_rights"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    can_post: Mapped[bool] = mapped_column(default=True)


class ApprovalDraft(Base):
    """A reply waiting for a lead: pending → approved (a message is queued) | rejected."""

    __tablename__ = "approval_drafts"
    __table_args__ = (
        Index("ix_approval_drafts_ws_state", "workspace_id", "state", "id"),
        Index("ix_approval_drafts_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    solve_after: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    reviewer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    review_note: Mapped[str | None] = mapped_column(Text, default=None)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = created_at_column()


class SavedFilter(Base):
    """A named inbox filter set (the inbox's query string as a dict, see
    ``actions.saved_filters.clean_filter_query``): private to its owner, or shared with the
    workspace. Only the owner renames or deletes it."""

    __tablename__ = "saved_filters"
    __table_args__ = (Index("ix_saved_filters_ws_user", "workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[dict[str, Any]] = mapped_column(default=dict)
    shared: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = created_at_column()

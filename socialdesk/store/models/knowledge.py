"""Knowledge-base articles, their versions and what the public help centre counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.store.models.base import Base, BigId, created_at_column


class Article(Base):
    """A Markdown article of a workspace's knowledge base.

    ``visibility`` public shows it on the help centre once ``status`` is published;
    internal ones (posting guidelines, crisis plan) only agents read. ``summaries`` holds
    a short text per network (``{"x": "…", "bluesky": "…"}``) for posts with small limits.
    ``short_code`` is the help centre's short link (``/h/<code>``).
    """

    __tablename__ = "kb_articles"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slug"),
        Index("ix_kb_articles_ws_status", "workspace_id", "status", "visibility"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(80), default="")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    summaries: Mapped[dict[str, Any]] = mapped_column(default=dict)
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    # The semantic half of the search: float16 multilingual-e5-small of the title,
    # category, tags and text (knowledge/semantic.py), written with the article; NULL
    # while the encoder is off, filled later by `socialdesk kb embed`. Not deferred:
    # every search reads it (768 bytes an article).
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class ArticleVersion(Base):
    """One saved state of an article: who saved it, when, and which fields changed."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    changed_fields: Mapped[list[Any]] = mapped_column(default=list)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = created_at_column()


class ArticleClicks(Base):
    """Visits through an article's short link, per channel it was shared on."""

    __tablename__ = "kb_article_clicks"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    clicks: Mapped[int] = mapped_column(Integer, default=0)

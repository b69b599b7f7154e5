"""The normalized inbound message every connector produces and the pipeline consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from socialdesk.domain.attachments import Attachment
from socialdesk.domain.enums import Direction, Platform, Visibility


class MessageChange(StrEnum):
    """A delivery about a post we may already have: its author edited or removed it.

    The pipeline updates the stored message instead of dropping the delivery as a
    duplicate (any network: Meta comment edits today, X or Mastodon edits later)."""

    EDITED = "edited"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a post, as the network identifies them."""

    external_user_id: str
    handle: str | None = None
    display_name: str | None = None
    follower_count: int | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One post, comment, DM or e-mail, stripped of platform quirks.

    ``channel_account_id`` is our id of the brand account it reached. ``direction`` is
    ``outbound`` for the brand's own posts seen on the wire (echoes, replies written in
    the network's own app, history replays); those never open a ticket by themselves.
    """

    channel_account_id: int
    platform: Platform
    platform_message_id: str
    author: Author
    body: str
    created_at: datetime
    direction: Direction = Direction.INBOUND
    visibility: Visibility = Visibility.PUBLIC
    # The platform id of the post this one answers (tweet parent, comment parent,
    # e-mail In-Reply-To).
    reply_to_id: str | None = None
    # Older ancestors, oldest first (e-mail References; a reply's root post).
    references: tuple[str, ...] = ()
    # A private conversation's id (DM thread); e-mail uses its thread root here.
    conversation_id: str | None = None
    subject: str | None = None
    raw_event_id: int | None = None
    extra: dict[str, object] = field(default_factory=dict)
    # Media, files, stickers, shared posts (stored in ``message_attachments``).
    attachments: tuple[Attachment, ...] = ()
    # Set when this delivery edits or removes the post ``platform_message_id``; ``body``
    # is then the new text (edits) and ``changed_at`` when the author changed it.
    change: MessageChange | None = None
    changed_at: datetime | None = None

"""What a customer sent besides text: images, videos, files, stickers, shared posts.

Each network's parser turns its payload into ``Attachment`` records
(``channels/<network>/attachments.py``); the pipeline stores them beside the message
(``message_attachments``), and a message with no text but an attachment is not blank.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class AttachmentKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"
    STICKER = "sticker"
    STORY_MENTION = "story_mention"
    SHARED_POST = "shared_post"
    LINK = "link"
    OTHER = "other"


# Size and text limits: payloads are untrusted, the columns are bounded.
_URL_LIMIT = 2048
_NAME_LIMIT = 300
_CAPTION_LIMIT = 2000
_MIME_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: AttachmentKind
    mime_type: str | None = None
    size: int | None = None
    name: str | None = None
    platform_url: str | None = None
    thumbnail_url: str | None = None
    caption: str | None = None
    # When the network's URL stops working (Meta CDN links carry ``oe=``), if said.
    expires_at: datetime | None = None
    # The network's id of the media (WhatsApp media id, X media key), to fetch it later.
    platform_media_id: str | None = None

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["kind"] = str(self.kind)
        return row


def text(value: object, limit: int = _NAME_LIMIT) -> str | None:
    """A payload field as bounded text, or None when absent or not text."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    found = str(value).strip()
    return found[:limit] or None


def url(value: object) -> str | None:
    """An http(s) URL from a payload, or None: nothing else is ever linked or shown."""
    found = text(value, _URL_LIMIT)
    if found is None or not found.lower().startswith(("https://", "http://")):
        return None
    return found


def caption(value: object) -> str | None:
    return text(value, _CAPTION_LIMIT)


def mime(value: object) -> str | None:
    found = text(value, _MIME_LIMIT)
    return found.lower() if found and "/" in found else None


def size(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < 2**53 else None


def kind_of_mime(mime_type: str | None) -> AttachmentKind:
    """The kind a MIME type implies (e-mail parts, Bluesky blobs, uploads)."""
    major = (mime_type or "").split("/", 1)[0]
    return {
        "image": AttachmentKind.IMAGE,
        "video": AttachmentKind.VIDEO,
        "audio": AttachmentKind.AUDIO,
    }.get(major, AttachmentKind.FILE)


def describe(attachments: list[Attachment] | tuple[Attachment, ...]) -> str:
    """A short label for a message that carries only attachments ("[image]", …)."""
    return ", ".join(f"[{a.kind.replace('_', ' ')}]" for a in attachments)


def from_row(row: dict[str, Any]) -> Attachment:
    """An attachment back from its ``as_row`` dict (a polled message's raw event)."""
    expires = row.get("expires_at")
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    return Attachment(
        kind=AttachmentKind(row["kind"]),
        mime_type=row.get("mime_type"),
        size=row.get("size"),
        name=row.get("name"),
        platform_url=row.get("platform_url"),
        thumbnail_url=row.get("thumbnail_url"),
        caption=row.get("caption"),
        expires_at=expires if isinstance(expires, datetime) else None,
        platform_media_id=row.get("platform_media_id"),
    )


def attachment_expired(
    expires_at: datetime | None, fetch_failed_at: datetime | None, now: datetime | None = None
) -> bool:
    """Whether the network's link no longer works: past its expiry, or a fetch failed."""
    if fetch_failed_at is not None:
        return True
    return expires_at is not None and expires_at <= (now or datetime.now(UTC))


_KIND_LABELS = {
    AttachmentKind.IMAGE: "Image",
    AttachmentKind.VIDEO: "Video",
    AttachmentKind.AUDIO: "Audio",
    AttachmentKind.FILE: "File",
    AttachmentKind.STICKER: "Sticker",
    AttachmentKind.STORY_MENTION: "Story mention",
    AttachmentKind.SHARED_POST: "Shared post",
    AttachmentKind.LINK: "Link",
    AttachmentKind.OTHER: "Attachment",
}


def human_size(size: int | None) -> str:
    """Bytes as people read them: "512 B", "2.1 MB"."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return ""  # pragma: no cover - the loop always returns


def label(kind: str, name: str | None = None, size: int | None = None) -> str:
    """What an agent reads for an attachment: "Sticker", "Video: clip.mp4 (2.1 MB)"."""
    try:
        text = _KIND_LABELS[AttachmentKind(kind)]
    except ValueError:
        text = _KIND_LABELS[AttachmentKind.OTHER]
    if name:
        text = f"{text}: {name}"
    if size is not None:
        text = f"{text} ({human_size(size)})"
    return text

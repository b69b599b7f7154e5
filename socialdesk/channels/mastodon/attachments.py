"""A Mastodon status's ``media_attachments`` as attachment records.

Each is ``{"id", "type": "image"|"gifv"|"video"|"audio"|"unknown", "url",
"preview_url", "remote_url", "description", "meta": {"original": {...}}}``; ``url``
is null while a remote server's media is not cached, ``remote_url`` then links it.
A status with a link preview carries ``card`` ``{"url", "title", "image"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialdesk.domain import attachments as fields
from socialdesk.domain.attachments import Attachment, AttachmentKind

_KINDS = {
    "image": AttachmentKind.IMAGE,
    "gifv": AttachmentKind.VIDEO,
    "video": AttachmentKind.VIDEO,
    "audio": AttachmentKind.AUDIO,
}


def status_attachments(status: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    media = status.get("media_attachments")
    for item in media if isinstance(media, list) else []:
        if not isinstance(item, dict):
            continue
        url = fields.url(item.get("url")) or fields.url(item.get("remote_url"))
        found.append(
            Attachment(
                kind=_KINDS.get(str(item.get("type") or ""), AttachmentKind.FILE),
                name=_file_name(url),
                platform_url=url,
                thumbnail_url=fields.url(item.get("preview_url")),
                caption=fields.caption(item.get("description")),
                platform_media_id=fields.text(item.get("id")),
            )
        )
    card = status.get("card")
    if isinstance(card, dict) and fields.url(card.get("url")):
        found.append(
            Attachment(
                kind=AttachmentKind.LINK,
                platform_url=fields.url(card.get("url")),
                thumbnail_url=fields.url(card.get("image")),
                caption=fields.caption(card.get("title")),
            )
        )
    return tuple(found)


def _file_name(url: str | None) -> str | None:
    last = (url or "").split("?", 1)[0].rsplit("/", 1)[-1]
    return fields.text(last) if "." in last else None

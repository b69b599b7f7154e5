"""A WhatsApp Cloud API message's media as an attachment record.

Media messages carry ``{"type": "image"|"video"|"audio"|"document"|"sticker",
<type>: {"id", "mime_type", "sha256", "caption"?, "filename"?}}``: a media id to fetch
(``GET /<media-id>``), never a link.
"""

from __future__ import annotations

from typing import Any

from socialdesk.domain import attachments as fields
from socialdesk.domain.attachments import Attachment, AttachmentKind

_KINDS = {
    "image": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "audio": AttachmentKind.AUDIO,
    "document": AttachmentKind.FILE,
    "sticker": AttachmentKind.STICKER,
}


def media_attachments(message: dict[str, Any]) -> tuple[Attachment, ...]:
    kind_name = str(message.get("type") or "")
    media = message.get(kind_name)
    if kind_name not in _KINDS or not isinstance(media, dict):
        return ()
    return (
        Attachment(
            kind=_KINDS[kind_name],
            mime_type=fields.mime(media.get("mime_type")),
            name=fields.text(media.get("filename")),
            caption=fields.caption(media.get("caption")),
            platform_media_id=fields.text(media.get("id"), 320),
        ),
    )

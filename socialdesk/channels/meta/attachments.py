"""Attachments in Meta's webhook bodies (Messenger, Instagram, Page feed), as records.

Messenger and Instagram DMs list ``message.attachments[]`` of ``{"type", "payload"}``:
``image``/``video``/``audio``/``file`` carry ``payload.url`` (a CDN link that expires:
its ``oe`` query parameter is the expiry as hex seconds); a sticker is an ``image``
with ``payload.sticker_id`` (also ``message.sticker_id``); ``fallback`` is a link
(``payload.url``/``title``), ``template`` a generic template's elements; Instagram adds
``story_mention``, ``share`` (a shared post), ``ig_reel``/``reel`` and ``like_heart``.
Page feed comments carry ``photo``/``video`` URLs, the Graph API's comment objects an
``attachment`` ``{"type", "url", "media": {"image": {"src"}}}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from socialdesk.domain import attachments as fields
from socialdesk.domain.attachments import Attachment, AttachmentKind
from socialdesk.domain.timestamps import TimestampError, from_epoch

_MEDIA_KINDS = {
    "image": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "audio": AttachmentKind.AUDIO,
    "file": AttachmentKind.FILE,
    "story_mention": AttachmentKind.STORY_MENTION,
    "share": AttachmentKind.SHARED_POST,
    "ig_reel": AttachmentKind.SHARED_POST,
    "reel": AttachmentKind.SHARED_POST,
    "ig_post": AttachmentKind.SHARED_POST,
    "like_heart": AttachmentKind.STICKER,
    "fallback": AttachmentKind.LINK,
}
_COMMENT_KINDS = {
    "photo": AttachmentKind.IMAGE,
    "sticker": AttachmentKind.STICKER,
    "animated_image_share": AttachmentKind.IMAGE,
    "video_inline": AttachmentKind.VIDEO,
    "video": AttachmentKind.VIDEO,
    "share": AttachmentKind.LINK,
}


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def cdn_expiry(url: str | None) -> datetime | None:
    """When a Meta CDN link stops working: ``oe`` is its expiry in hex epoch seconds."""
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("oe")
    if not values:
        return None
    try:
        return from_epoch(int(values[0], 16))
    except (ValueError, TimestampError):
        return None


def _name_from_url(url: str | None) -> str | None:
    if not url:
        return None
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return fields.text(last) if "." in last else None


def _media(kind: AttachmentKind, url: str | None, **more: Any) -> Attachment:
    return Attachment(kind=kind, platform_url=url, expires_at=cdn_expiry(url), **more)


def dm_attachments(message: dict[str, Any]) -> tuple[Attachment, ...]:
    """A Messenger or Instagram ``message`` object's attachments, in order."""
    found: list[Attachment] = []
    for item in message.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        kind_name = str(item.get("type") or "")
        payload = _obj(item.get("payload"))
        url = fields.url(payload.get("url") or item.get("url"))
        if kind_name == "template":
            found.extend(_template(payload))
            continue
        kind = _MEDIA_KINDS.get(kind_name, AttachmentKind.OTHER)
        if kind == AttachmentKind.IMAGE and payload.get("sticker_id"):
            kind = AttachmentKind.STICKER
        caption = fields.caption(payload.get("title") or item.get("title"))
        name = _name_from_url(url) if kind in (AttachmentKind.FILE, AttachmentKind.AUDIO) else None
        found.append(
            _media(
                kind,
                url,
                name=name,
                caption=caption,
                platform_media_id=fields.text(
                    payload.get("sticker_id") or payload.get("reel_video_id") or payload.get("id")
                ),
            )
        )
    if message.get("sticker_id") and not any(a.kind == AttachmentKind.STICKER for a in found):
        found.append(
            Attachment(
                kind=AttachmentKind.STICKER, platform_media_id=fields.text(message["sticker_id"])
            )
        )
    story = _obj(_obj(message.get("reply_to")).get("story"))
    if story:
        url = fields.url(story.get("url"))
        found.append(
            _media(
                AttachmentKind.STORY_MENTION,
                url,
                caption="Reply to a story",
                platform_media_id=fields.text(story.get("id")),
            )
        )
    return tuple(found)


def _template(payload: dict[str, Any]) -> list[Attachment]:
    found: list[Attachment] = []
    for element in payload.get("elements") or []:
        if not isinstance(element, dict):
            continue
        default_action = _obj(element.get("default_action"))
        found.append(
            Attachment(
                kind=AttachmentKind.SHARED_POST,
                platform_url=fields.url(element.get("url") or default_action.get("url")),
                thumbnail_url=fields.url(element.get("image_url")),
                caption=fields.caption(
                    " — ".join(str(element[k]) for k in ("title", "subtitle") if element.get(k))
                ),
            )
        )
    return found


def comment_attachments(value: dict[str, Any]) -> tuple[Attachment, ...]:
    """A Page feed change's (comment or visitor post) or a Graph API comment's media."""
    found: list[Attachment] = []
    attachment = _obj(value.get("attachment"))
    if attachment:
        image = _obj(_obj(attachment.get("media")).get("image"))
        source = fields.url(_obj(attachment.get("media")).get("source"))
        src = fields.url(image.get("src"))
        kind = _COMMENT_KINDS.get(str(attachment.get("type") or ""), AttachmentKind.OTHER)
        url = source or src or fields.url(attachment.get("url"))
        found.append(
            _media(
                kind,
                url,
                thumbnail_url=src if src != url else None,
                caption=fields.caption(attachment.get("description") or attachment.get("title")),
                platform_media_id=fields.text(_obj(attachment.get("target")).get("id")),
            )
        )
    photos = value.get("photos")
    urls = [fields.url(value.get("photo"))]
    if isinstance(photos, list):
        urls += [fields.url(p) for p in photos]
    for url in dict.fromkeys(u for u in urls if u):
        if not any(a.platform_url == url for a in found):
            found.append(_media(AttachmentKind.IMAGE, url))
    video = fields.url(value.get("video"))
    if video:
        found.append(_media(AttachmentKind.VIDEO, video))
    if value.get("item") in ("share", "link") and fields.url(value.get("link")):
        found.append(Attachment(kind=AttachmentKind.LINK, platform_url=fields.url(value["link"])))
    return tuple(found)

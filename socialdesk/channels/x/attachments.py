"""Media attached to tweets and DMs on X, as attachment records.

v1.1 (Account Activity webhooks): a tweet's ``extended_entities.media[]`` (or
``extended_tweet.extended_entities``), a DM's ``message_data.attachment.media``, each
``{"id_str", "type": "photo"|"video"|"animated_gif", "media_url_https",
"expanded_url", "ext_alt_text", "video_info": {"variants": [...]}}``.
v2 (polling): ``attachments.media_keys`` on the tweet or DM event, resolved through the
response's ``includes.media[]`` ``{"media_key", "type", "url", "preview_image_url",
"alt_text", "variants"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialdesk.domain import attachments as fields
from socialdesk.domain.attachments import Attachment, AttachmentKind

_KINDS = {
    "photo": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "animated_gif": AttachmentKind.VIDEO,
}


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _best_variant(variants: object) -> tuple[str | None, str | None]:
    """The highest-bitrate MP4 of a video (URL, content type); HLS playlists last."""
    best: tuple[int, str | None, str | None] = (-1, None, None)
    for v in variants if isinstance(variants, list) else []:
        v = _obj(v)
        url = fields.url(v.get("url"))
        if url is None:
            continue
        rate = v.get("bitrate", v.get("bit_rate"))
        rank = rate if isinstance(rate, int) else 0
        if v.get("content_type") != "video/mp4":
            rank = -1 if best[1] is None else -2
        if rank > best[0] or best[1] is None:
            best = (rank, url, fields.mime(v.get("content_type")))
    return best[1], best[2]


def _v1_media(media: dict[str, Any]) -> Attachment:
    kind = _KINDS.get(str(media.get("type") or ""), AttachmentKind.OTHER)
    picture = fields.url(media.get("media_url_https") or media.get("media_url"))
    video_url, video_mime = _best_variant(_obj(media.get("video_info")).get("variants"))
    if kind == AttachmentKind.IMAGE:
        return Attachment(
            kind=kind,
            platform_url=picture,
            thumbnail_url=picture,
            caption=fields.caption(media.get("ext_alt_text")),
            platform_media_id=fields.text(media.get("id_str") or media.get("id")),
        )
    return Attachment(
        kind=kind,
        mime_type=video_mime,
        platform_url=video_url or fields.url(media.get("expanded_url")),
        thumbnail_url=picture,
        caption=fields.caption(media.get("ext_alt_text")),
        platform_media_id=fields.text(media.get("id_str") or media.get("id")),
    )


def tweet_attachments(tweet: dict[str, Any]) -> tuple[Attachment, ...]:
    """A v1.1 tweet's media (the extended tweet's when it has one)."""
    extended = _obj(_obj(tweet.get("extended_tweet")).get("extended_entities"))
    media = extended.get("media") or _obj(tweet.get("extended_entities")).get("media")
    if not isinstance(media, list):
        media = _obj(tweet.get("entities")).get("media")
    return tuple(_v1_media(m) for m in media or [] if isinstance(m, dict))


def dm_attachments(message_data: dict[str, Any]) -> tuple[Attachment, ...]:
    """A v1.1 DM's ``message_data.attachment`` (one media at most)."""
    attachment = _obj(message_data.get("attachment"))
    media = _obj(attachment.get("media"))
    return (_v1_media(media),) if media else ()


def included_media(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A v2 response's ``includes.media`` by media key."""
    media = _obj(body.get("includes")).get("media")
    return {
        m["media_key"]: m
        for m in (media if isinstance(media, list) else [])
        if isinstance(m, dict) and isinstance(m.get("media_key"), str)
    }


def v2_attachments(
    item: dict[str, Any], media: Mapping[str, dict[str, Any]]
) -> tuple[Attachment, ...]:
    """A v2 tweet's or DM event's ``attachments.media_keys`` resolved in ``media``."""
    keys = _obj(item.get("attachments")).get("media_keys")
    found: list[Attachment] = []
    for key in keys if isinstance(keys, list) else []:
        entry = media.get(key) if isinstance(key, str) else None
        if entry is None:
            found.append(Attachment(kind=AttachmentKind.OTHER, platform_media_id=str(key)[:320]))
            continue
        kind = _KINDS.get(str(entry.get("type") or ""), AttachmentKind.OTHER)
        video_url, video_mime = _best_variant(entry.get("variants"))
        picture = fields.url(entry.get("url"))
        found.append(
            Attachment(
                kind=kind,
                mime_type=video_mime if kind == AttachmentKind.VIDEO else None,
                platform_url=picture if kind == AttachmentKind.IMAGE else video_url,
                thumbnail_url=picture or fields.url(entry.get("preview_image_url")),
                caption=fields.caption(entry.get("alt_text")),
                platform_media_id=key,
            )
        )
    return tuple(found)

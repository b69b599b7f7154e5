"""Bluesky embeds as attachment records.

A post record's ``embed`` is one of ``app.bsky.embed.images`` (``images[]`` of
``{"image": blob, "alt"}``, a blob being ``{"$type": "blob", "ref": {"$link": cid},
"mimeType", "size"}``), ``app.bsky.embed.video`` (``{"video": blob, "alt"}``),
``app.bsky.embed.external`` (``{"external": {"uri", "title", "description", "thumb"}}``),
``app.bsky.embed.record`` (a quoted post, ``{"record": {"uri", "cid"}}``) or
``app.bsky.embed.recordWithMedia`` (``{"record": {"record": …}, "media": …}``). A
record holds blob ids, not links: images are shown through Bluesky's CDN
(``cdn.bsky.app/img/feed_fullsize/plain/<did>/<cid>``). Chat messages carry the
hydrated view (``app.bsky.embed.record#view`` etc., with ``thumb``/``fullsize`` links).
"""

from __future__ import annotations

from typing import Any

from socialdesk.domain import attachments as fields
from socialdesk.domain.attachments import Attachment, AttachmentKind

CDN = "https://cdn.bsky.app/img"
VIDEO_CDN = "https://video.bsky.app/watch"


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _blob_cid(blob: dict[str, Any]) -> str | None:
    link = _obj(blob.get("ref")).get("$link") or blob.get("cid")
    found = fields.text(link)
    return found if found and found.isalnum() else None


def _did_safe(did: str) -> str | None:
    return did if did.startswith("did:") and all(c.isalnum() or c in ":._-" for c in did) else None


def post_link(at_uri: object) -> str | None:
    """``at://<did>/app.bsky.feed.post/<rkey>`` → the post's bsky.app page."""
    if not isinstance(at_uri, str) or not at_uri.startswith("at://"):
        return None
    parts = at_uri[5:].split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post" or not _did_safe(parts[0]):
        return None
    return f"https://bsky.app/profile/{parts[0]}/post/{parts[2]}"


def embed_attachments(embed: object, author_did: str) -> tuple[Attachment, ...]:
    """A post's (or chat message's) embed, by type; unknown types become ``other``."""
    embed = _obj(embed)
    kind = str(embed.get("$type") or "").removesuffix("#view")
    did = _did_safe(author_did)
    if kind == "app.bsky.embed.images":
        return tuple(_image(i, did) for i in embed.get("images") or [] if isinstance(i, dict))
    if kind == "app.bsky.embed.video":
        return (_video(embed, did),)
    if kind == "app.bsky.embed.external":
        external = _obj(embed.get("external"))
        thumb = external.get("thumb")
        return (
            Attachment(
                kind=AttachmentKind.LINK,
                platform_url=fields.url(external.get("uri")),
                thumbnail_url=fields.url(thumb) or _blob_url(_obj(thumb), did, "feed_thumbnail"),
                caption=fields.caption(external.get("title") or external.get("description")),
            ),
        )
    if kind == "app.bsky.embed.record":
        return (_quoted(_obj(embed.get("record"))),)
    if kind == "app.bsky.embed.recordWithMedia":
        record = _obj(embed.get("record"))
        return (
            *embed_attachments(embed.get("media"), author_did),
            _quoted(_obj(record.get("record")) or record),
        )
    if not embed:
        return ()
    return (Attachment(kind=AttachmentKind.OTHER, caption=fields.caption(kind)),)


def _blob_url(blob: dict[str, Any], did: str | None, size: str) -> str | None:
    cid = _blob_cid(blob)
    if cid is None or did is None:
        return None
    return f"{CDN}/{size}/plain/{did}/{cid}@jpeg"


def _image(item: dict[str, Any], did: str | None) -> Attachment:
    blob = _obj(item.get("image"))
    return Attachment(
        kind=AttachmentKind.IMAGE,
        mime_type=fields.mime(blob.get("mimeType")),
        size=fields.size(blob.get("size")),
        platform_url=fields.url(item.get("fullsize")) or _blob_url(blob, did, "feed_fullsize"),
        thumbnail_url=fields.url(item.get("thumb")) or _blob_url(blob, did, "feed_thumbnail"),
        caption=fields.caption(item.get("alt")),
        platform_media_id=_blob_cid(blob),
    )


def _video(embed: dict[str, Any], did: str | None) -> Attachment:
    blob = _obj(embed.get("video"))
    cid = _blob_cid(blob)
    playlist = fields.url(embed.get("playlist"))
    if playlist is None and did and cid:
        playlist = f"{VIDEO_CDN}/{did}/{cid}/playlist.m3u8"
    return Attachment(
        kind=AttachmentKind.VIDEO,
        mime_type=fields.mime(blob.get("mimeType")),
        size=fields.size(blob.get("size")),
        platform_url=playlist
        or (f"{VIDEO_CDN}/{did}/{cid}/playlist.m3u8" if did and cid else None),
        thumbnail_url=fields.url(embed.get("thumbnail")),
        caption=fields.caption(embed.get("alt")),
        platform_media_id=cid,
    )


def _quoted(record: dict[str, Any]) -> Attachment:
    value = _obj(record.get("value"))
    return Attachment(
        kind=AttachmentKind.SHARED_POST,
        platform_url=post_link(record.get("uri")),
        caption=fields.caption(value.get("text")),
        platform_media_id=fields.text(record.get("uri"), 320),
    )

"""Every network's attachment shapes, as documented, through its pure parser: what kind,
link, preview, name, size and caption each becomes (docs/channels.md, "Attachments")."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from socialdesk.channels.bluesky.attachments import embed_attachments
from socialdesk.channels.email.attachments import mime_attachments
from socialdesk.channels.mastodon.attachments import status_attachments
from socialdesk.channels.meta.attachments import cdn_expiry, comment_attachments, dm_attachments
from socialdesk.channels.whatsapp.attachments import media_attachments
from socialdesk.channels.x.attachments import (
    dm_attachments as x_dm_attachments,
)
from socialdesk.channels.x.attachments import (
    included_media,
    tweet_attachments,
    v2_attachments,
)
from socialdesk.domain.attachments import (
    Attachment,
    AttachmentKind,
    attachment_expired,
    from_row,
)

K = AttachmentKind
# Meta CDN links carry their expiry as hex epoch seconds in ``oe``: 0x69A0C000.
CDN = "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?stp=dst-jpg&_nc_sid=1&oe=69A0C000"
CDN_EXPIRES = datetime.fromtimestamp(0x69A0C000, UTC)
DID = "did:plc:abc123xyz"
CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

# (case, Messenger/Instagram ``message`` object, expected attachments)
META_DM_CASES: list[tuple[str, dict[str, Any], tuple[Attachment, ...]]] = [
    (
        "messenger image with CDN expiry",
        {"mid": "m_1", "attachments": [{"type": "image", "payload": {"url": CDN}}]},
        (Attachment(K.IMAGE, platform_url=CDN, expires_at=CDN_EXPIRES),),
    ),
    (
        "messenger sticker: an image with sticker_id",
        {
            "mid": "m_2",
            "sticker_id": 369239263222822,
            "attachments": [
                {
                    "type": "image",
                    "payload": {
                        "url": "https://scontent.xx.fbcdn.net/t39.1997-6/like.png",
                        "sticker_id": 369239263222822,
                    },
                }
            ],
        },
        (
            Attachment(
                K.STICKER,
                platform_url="https://scontent.xx.fbcdn.net/t39.1997-6/like.png",
                platform_media_id="369239263222822",
            ),
        ),
    ),
    (
        "video, audio and file in one message",
        {
            "mid": "m_3",
            "attachments": [
                {"type": "video", "payload": {"url": "https://video.xx.fbcdn.net/v/clip.mp4"}},
                {"type": "audio", "payload": {"url": "https://cdn.fbsbx.com/v/audioclip-1.mp4"}},
                {"type": "file", "payload": {"url": "https://cdn.fbsbx.com/v/invoice%202.pdf"}},
            ],
        },
        (
            Attachment(K.VIDEO, platform_url="https://video.xx.fbcdn.net/v/clip.mp4"),
            Attachment(
                K.AUDIO,
                name="audioclip-1.mp4",
                platform_url="https://cdn.fbsbx.com/v/audioclip-1.mp4",
            ),
            Attachment(
                K.FILE, name="invoice 2.pdf", platform_url="https://cdn.fbsbx.com/v/invoice%202.pdf"
            ),
        ),
    ),
    (
        "fallback (a shared link)",
        {
            "mid": "m_4",
            "attachments": [
                {
                    "type": "fallback",
                    "title": "Order #1234 tracking",
                    "URL": "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example",
                    "payload": {"url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example"},
                }
            ],
        },
        (
            Attachment(
                K.LINK,
                platform_url="https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example",
                caption="Order #1234 tracking",
            ),
        ),
    ),
    (
        "generic template (a shared product)",
        {
            "mid": "m_5",
            "attachments": [
                {
                    "type": "template",
                    "payload": {
                        "template_type": "generic",
                        "elements": [
                            {
                                "title": "Kettle 1.7 l",
                                "subtitle": "£24.99",
                                "image_url": "https://shop.example/kettle.jpg",
                                "default_action": {"url": "https://shop.example/kettle"},
                            }
                        ],
                    },
                }
            ],
        },
        (
            Attachment(
                K.SHARED_POST,
                platform_url="https://shop.example/kettle",
                thumbnail_url="https://shop.example/kettle.jpg",
                caption="Kettle 1.7 l — £24.99",
            ),
        ),
    ),
    (
        "instagram story mention",
        {
            "mid": "aWdfZAG1",
            "attachments": [{"type": "story_mention", "payload": {"url": CDN}}],
        },
        (Attachment(K.STORY_MENTION, platform_url=CDN, expires_at=CDN_EXPIRES),),
    ),
    (
        "instagram shared post and reel",
        {
            "mid": "aWdfZAG2",
            "attachments": [
                {"type": "share", "payload": {"url": "https://lookaside.fbsbx.com/ig_post.jpg"}},
                {
                    "type": "ig_reel",
                    "payload": {
                        "reel_video_id": "18025",
                        "title": "Unboxing",
                        "url": "https://lookaside.fbsbx.com/reel.mp4",
                    },
                },
            ],
        },
        (
            Attachment(K.SHARED_POST, platform_url="https://lookaside.fbsbx.com/ig_post.jpg"),
            Attachment(
                K.SHARED_POST,
                platform_url="https://lookaside.fbsbx.com/reel.mp4",
                caption="Unboxing",
                platform_media_id="18025",
            ),
        ),
    ),
    (
        "instagram story reply (reply_to.story) and like_heart",
        {
            "mid": "aWdfZAG3",
            "text": "love it",
            "reply_to": {"story": {"url": "https://lookaside.fbsbx.com/story.jpg", "id": "179"}},
            "attachments": [{"type": "like_heart"}],
        },
        (
            Attachment(K.STICKER),
            Attachment(
                K.STORY_MENTION,
                platform_url="https://lookaside.fbsbx.com/story.jpg",
                caption="Reply to a story",
                platform_media_id="179",
            ),
        ),
    ),
    (
        "unknown type and a non-http url stay harmless",
        {"mid": "m_6", "attachments": [{"type": "hologram", "payload": {"url": "javascript:x"}}]},
        (Attachment(K.OTHER),),
    ),
    ("text only", {"mid": "m_7", "text": "hi"}, ()),
    ("attachments not a list of objects", {"mid": "m_8", "attachments": ["x", 3]}, ()),
]


@pytest.mark.parametrize(
    ("message", "expected"), [c[1:] for c in META_DM_CASES], ids=[c[0] for c in META_DM_CASES]
)
def test_meta_dm_attachments(message: dict[str, Any], expected: tuple[Attachment, ...]) -> None:
    assert dm_attachments(message) == expected


COMMENT_CASES: list[tuple[str, dict[str, Any], tuple[Attachment, ...]]] = [
    (
        "page feed comment with a photo",
        {"item": "comment", "verb": "add", "message": "", "photo": CDN},
        (Attachment(K.IMAGE, platform_url=CDN, expires_at=CDN_EXPIRES),),
    ),
    (
        "visitor post with a video",
        {"item": "video", "verb": "add", "video": "https://video.xx.fbcdn.net/v/visitor.mp4"},
        (Attachment(K.VIDEO, platform_url="https://video.xx.fbcdn.net/v/visitor.mp4"),),
    ),
    (
        "visitor post sharing a link",
        {"item": "link", "verb": "add", "link": "https://news.example/story"},
        (Attachment(K.LINK, platform_url="https://news.example/story"),),
    ),
    (
        "graph api comment object with attachment",
        {
            "id": "1_2",
            "attachment": {
                "type": "photo",
                "url": "https://www.facebook.com/photo.php?fbid=55",
                "target": {"id": "55"},
                "media": {"image": {"src": "https://scontent.xx.fbcdn.net/c.jpg", "height": 1}},
            },
        },
        (
            Attachment(
                K.IMAGE, platform_url="https://scontent.xx.fbcdn.net/c.jpg", platform_media_id="55"
            ),
        ),
    ),
    (
        "graph api sticker comment",
        {"attachment": {"type": "sticker", "media": {"image": {"src": "https://s.example/s.png"}}}},
        (Attachment(K.STICKER, platform_url="https://s.example/s.png"),),
    ),
    ("plain comment", {"item": "comment", "verb": "add", "message": "hello"}, ()),
]


@pytest.mark.parametrize(
    ("value", "expected"), [c[1:] for c in COMMENT_CASES], ids=[c[0] for c in COMMENT_CASES]
)
def test_meta_comment_attachments(value: dict[str, Any], expected: tuple[Attachment, ...]) -> None:
    assert comment_attachments(value) == expected


def test_meta_cdn_expiry_reads_only_a_hex_oe() -> None:
    assert cdn_expiry(CDN) == CDN_EXPIRES
    assert cdn_expiry("https://scontent.example/a.jpg?oe=zz") is None
    assert cdn_expiry("https://scontent.example/a.jpg?oe=" + "F" * 40) is None  # out of range
    assert cdn_expiry(None) is None


PHOTO_V1 = {
    "id_str": "1200",
    "type": "photo",
    "media_url_https": "https://pbs.twimg.com/media/EXaMpLe.jpg",
    "url": "https://t.co/abc",
    "expanded_url": "https://twitter.com/ann/status/1/photo/1",
    "ext_alt_text": "A dented parcel",
}
VIDEO_V1 = {
    "id_str": "1201",
    "type": "video",
    "media_url_https": "https://pbs.twimg.com/ext_tw_video_thumb/1201/pu/img/thumb.jpg",
    "video_info": {
        "variants": [
            {"content_type": "application/x-mpegURL", "url": "https://video.twimg.com/pl.m3u8"},
            {
                "bitrate": 256000,
                "content_type": "video/mp4",
                "url": "https://video.twimg.com/lo.mp4",
            },
            {
                "bitrate": 832000,
                "content_type": "video/mp4",
                "url": "https://video.twimg.com/hi.mp4",
            },
        ]
    },
}
X_PHOTO = Attachment(
    K.IMAGE,
    platform_url="https://pbs.twimg.com/media/EXaMpLe.jpg",
    thumbnail_url="https://pbs.twimg.com/media/EXaMpLe.jpg",
    caption="A dented parcel",
    platform_media_id="1200",
)
X_VIDEO = Attachment(
    K.VIDEO,
    mime_type="video/mp4",
    platform_url="https://video.twimg.com/hi.mp4",
    thumbnail_url="https://pbs.twimg.com/ext_tw_video_thumb/1201/pu/img/thumb.jpg",
    platform_media_id="1201",
)

X_TWEET_CASES: list[tuple[str, dict[str, Any], tuple[Attachment, ...]]] = [
    (
        "extended_entities",
        {"extended_entities": {"media": [PHOTO_V1, VIDEO_V1]}},
        (X_PHOTO, X_VIDEO),
    ),
    (
        "extended_tweet's extended_entities win",
        {
            "truncated": True,
            "extended_entities": {"media": [VIDEO_V1]},
            "extended_tweet": {"full_text": "x", "extended_entities": {"media": [PHOTO_V1]}},
        },
        (X_PHOTO,),
    ),
    ("entities.media only (first photo)", {"entities": {"media": [PHOTO_V1]}}, (X_PHOTO,)),
    ("no media", {"text": "hello", "entities": {"hashtags": []}}, ()),
]


@pytest.mark.parametrize(
    ("tweet", "expected"), [c[1:] for c in X_TWEET_CASES], ids=[c[0] for c in X_TWEET_CASES]
)
def test_x_tweet_attachments(tweet: dict[str, Any], expected: tuple[Attachment, ...]) -> None:
    assert tweet_attachments(tweet) == expected


def test_x_dm_attachment() -> None:
    data = {"text": "see https://t.co/abc", "attachment": {"type": "media", "media": PHOTO_V1}}
    assert x_dm_attachments(data) == (X_PHOTO,)
    assert x_dm_attachments({"text": "hi"}) == ()


def test_x_v2_media_keys_resolve_through_includes() -> None:
    body = {
        "includes": {
            "media": [
                {
                    "media_key": "3_1200",
                    "type": "photo",
                    "url": "https://pbs.twimg.com/media/EXaMpLe.jpg",
                    "alt_text": "A dented parcel",
                },
                {
                    "media_key": "16_9",
                    "type": "animated_gif",
                    "preview_image_url": "https://pbs.twimg.com/tweet_video_thumb/g.jpg",
                    "variants": [
                        {
                            "bit_rate": 0,
                            "content_type": "video/mp4",
                            "url": "https://v.twimg.com/g.mp4",
                        }
                    ],
                },
                {"type": "photo"},
            ]
        }
    }
    tweet = {"id": "1", "attachments": {"media_keys": ["3_1200", "16_9", "7_missing"]}}
    assert v2_attachments(tweet, included_media(body)) == (
        Attachment(
            K.IMAGE,
            platform_url="https://pbs.twimg.com/media/EXaMpLe.jpg",
            thumbnail_url="https://pbs.twimg.com/media/EXaMpLe.jpg",
            caption="A dented parcel",
            platform_media_id="3_1200",
        ),
        Attachment(
            K.VIDEO,
            mime_type="video/mp4",
            platform_url="https://v.twimg.com/g.mp4",
            thumbnail_url="https://pbs.twimg.com/tweet_video_thumb/g.jpg",
            platform_media_id="16_9",
        ),
        Attachment(K.OTHER, platform_media_id="7_missing"),
    )
    assert v2_attachments({"id": "2"}, {}) == ()


MASTODON_CASES: list[tuple[str, dict[str, Any], tuple[Attachment, ...]]] = [
    (
        "image, gifv, audio, unknown",
        {
            "media_attachments": [
                {
                    "id": "22345792",
                    "type": "image",
                    "url": "https://files.mastodon.social/media/original/abc.png",
                    "preview_url": "https://files.mastodon.social/media/small/abc.png",
                    "remote_url": None,
                    "description": "Receipt photo",
                },
                {
                    "id": "2",
                    "type": "gifv",
                    "url": "https://files.example/g.mp4",
                    "preview_url": "https://files.example/g.png",
                },
                {"id": "3", "type": "audio", "url": "https://files.example/a.mp3"},
                {
                    "id": "4",
                    "type": "unknown",
                    "url": None,
                    "remote_url": "https://remote.example/doc.pdf",
                },
            ]
        },
        (
            Attachment(
                K.IMAGE,
                name="abc.png",
                platform_url="https://files.mastodon.social/media/original/abc.png",
                thumbnail_url="https://files.mastodon.social/media/small/abc.png",
                caption="Receipt photo",
                platform_media_id="22345792",
            ),
            Attachment(
                K.VIDEO,
                name="g.mp4",
                platform_url="https://files.example/g.mp4",
                thumbnail_url="https://files.example/g.png",
                platform_media_id="2",
            ),
            Attachment(
                K.AUDIO,
                name="a.mp3",
                platform_url="https://files.example/a.mp3",
                platform_media_id="3",
            ),
            Attachment(
                K.FILE,
                name="doc.pdf",
                platform_url="https://remote.example/doc.pdf",
                platform_media_id="4",
            ),
        ),
    ),
    (
        "link card",
        {
            "media_attachments": [],
            "card": {
                "url": "https://shop.example/o/1",
                "title": "Your order",
                "image": "https://shop.example/o.png",
            },
        },
        (
            Attachment(
                K.LINK,
                platform_url="https://shop.example/o/1",
                thumbnail_url="https://shop.example/o.png",
                caption="Your order",
            ),
        ),
    ),
    ("no media", {"media_attachments": [], "card": None}, ()),
]


@pytest.mark.parametrize(
    ("status", "expected"), [c[1:] for c in MASTODON_CASES], ids=[c[0] for c in MASTODON_CASES]
)
def test_mastodon_media_attachments(
    status: dict[str, Any], expected: tuple[Attachment, ...]
) -> None:
    assert status_attachments(status) == expected


BLOB = {"$type": "blob", "ref": {"$link": CID}, "mimeType": "image/jpeg", "size": 204800}
BSKY_IMAGE = Attachment(
    K.IMAGE,
    mime_type="image/jpeg",
    size=204800,
    platform_url=f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/{CID}@jpeg",
    thumbnail_url=f"https://cdn.bsky.app/img/feed_thumbnail/plain/{DID}/{CID}@jpeg",
    caption="Broken lid",
    platform_media_id=CID,
)
QUOTE = Attachment(
    K.SHARED_POST,
    platform_url="https://bsky.app/profile/did:plc:other/post/3kabc",
    platform_media_id="at://did:plc:other/app.bsky.feed.post/3kabc",
)
BLUESKY_CASES: list[tuple[str, dict[str, Any] | None, tuple[Attachment, ...]]] = [
    (
        "images",
        {"$type": "app.bsky.embed.images", "images": [{"image": BLOB, "alt": "Broken lid"}]},
        (BSKY_IMAGE,),
    ),
    (
        "external link card",
        {
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": "https://shop.example/p/9",
                "title": "Kettle",
                "description": "",
                "thumb": BLOB,
            },
        },
        (
            Attachment(
                K.LINK,
                platform_url="https://shop.example/p/9",
                thumbnail_url=f"https://cdn.bsky.app/img/feed_thumbnail/plain/{DID}/{CID}@jpeg",
                caption="Kettle",
            ),
        ),
    ),
    (
        "quoted post (record)",
        {
            "$type": "app.bsky.embed.record",
            "record": {"uri": "at://did:plc:other/app.bsky.feed.post/3kabc", "cid": "bafy"},
        },
        (QUOTE,),
    ),
    (
        "record with media",
        {
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {
                "$type": "app.bsky.embed.record",
                "record": {"uri": "at://did:plc:other/app.bsky.feed.post/3kabc", "cid": "bafy"},
            },
            "media": {
                "$type": "app.bsky.embed.images",
                "images": [{"image": BLOB, "alt": "Broken lid"}],
            },
        },
        (BSKY_IMAGE, QUOTE),
    ),
    (
        "video",
        {
            "$type": "app.bsky.embed.video",
            "video": {**BLOB, "mimeType": "video/mp4", "size": 1000},
            "alt": "Leak",
        },
        (
            Attachment(
                K.VIDEO,
                mime_type="video/mp4",
                size=1000,
                platform_url=f"https://video.bsky.app/watch/{DID}/{CID}/playlist.m3u8",
                caption="Leak",
                platform_media_id=CID,
            ),
        ),
    ),
    (
        "chat message's hydrated record view",
        {
            "$type": "app.bsky.embed.record#view",
            "record": {
                "uri": "at://did:plc:other/app.bsky.feed.post/3kabc",
                "value": {"text": "this one"},
            },
        },
        (
            Attachment(
                K.SHARED_POST,
                platform_url="https://bsky.app/profile/did:plc:other/post/3kabc",
                caption="this one",
                platform_media_id="at://did:plc:other/app.bsky.feed.post/3kabc",
            ),
        ),
    ),
    (
        "unknown embed type",
        {"$type": "app.example.embed.poll"},
        (Attachment(K.OTHER, caption="app.example.embed.poll"),),
    ),
    ("no embed", None, ()),
]


@pytest.mark.parametrize(
    ("embed", "expected"), [c[1:] for c in BLUESKY_CASES], ids=[c[0] for c in BLUESKY_CASES]
)
def test_bluesky_embeds(embed: dict[str, Any] | None, expected: tuple[Attachment, ...]) -> None:
    assert embed_attachments(embed, DID) == expected


def test_bluesky_blob_links_need_a_plain_did() -> None:
    embed = {"$type": "app.bsky.embed.images", "images": [{"image": BLOB}]}
    [image] = embed_attachments(embed, "did:plc:x/../../evil")
    assert image.platform_url is None and image.platform_media_id == CID


def _mail(build: str) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(build.encode())
    assert isinstance(message, EmailMessage)
    return message


def test_email_attachments_and_inline_images() -> None:
    message = EmailMessage()
    message["Subject"] = "Broken kettle"
    message.set_content("See attached.")
    message.add_alternative('<p>See <img src="cid:leak1"></p>', subtype="html")
    html_part = message.get_payload()[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        b"\x89PNG" + b"0" * 96, "image", "png", cid="<leak1>", filename="leak.png"
    )
    message.add_attachment(b"%PDF-1.4" + b"1" * 2040, "application", "pdf", filename="receipt.pdf")
    parsed = _mail(message.as_string())
    assert mime_attachments(parsed) == (
        Attachment(K.FILE, mime_type="application/pdf", size=2048, name="receipt.pdf"),
    )
    # Inline images of an HTML body live in multipart/related: found when it is the body.
    related = _mail(
        "Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=b\n\n"
        "--b\nContent-Type: text/html\n\n<img src=cid:p1>\n"
        "--b\nContent-Type: image/jpeg\nContent-ID: <p1>\nContent-Disposition: inline;"
        " filename=photo.jpg\nContent-Transfer-Encoding: base64\n\n/9j/4AAQ\n--b--\n"
    )
    assert mime_attachments(related) == (
        Attachment(
            K.IMAGE,
            mime_type="image/jpeg",
            size=6,
            name="photo.jpg",
            caption="Inline image",
            platform_media_id="p1",
        ),
    )
    assert mime_attachments(_mail("Subject: plain\n\nhello\n")) == ()


WHATSAPP_CASES: list[tuple[str, dict[str, Any], tuple[Attachment, ...]]] = [
    (
        "document",
        {
            "type": "document",
            "document": {
                "id": "1003",
                "mime_type": "application/pdf",
                "filename": "invoice.pdf",
                "caption": "my invoice",
            },
        },
        (
            Attachment(
                K.FILE,
                mime_type="application/pdf",
                name="invoice.pdf",
                caption="my invoice",
                platform_media_id="1003",
            ),
        ),
    ),
    (
        "sticker",
        {"type": "sticker", "sticker": {"id": "9", "mime_type": "image/webp", "animated": False}},
        (Attachment(K.STICKER, mime_type="image/webp", platform_media_id="9"),),
    ),
    ("text", {"type": "text", "text": {"body": "hi"}}, ()),
]


@pytest.mark.parametrize(
    ("message", "expected"), [c[1:] for c in WHATSAPP_CASES], ids=[c[0] for c in WHATSAPP_CASES]
)
def test_whatsapp_media(message: dict[str, Any], expected: tuple[Attachment, ...]) -> None:
    assert media_attachments(message) == expected


def test_attachment_round_trips_through_its_row_and_expiry_is_judged() -> None:
    original = Attachment(K.IMAGE, platform_url=CDN, expires_at=CDN_EXPIRES, size=3)
    row = original.as_row()
    assert row["kind"] == "image"
    assert from_row({**row, "expires_at": str(CDN_EXPIRES)}) == original
    before, after = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    assert attachment_expired(CDN_EXPIRES, None, now=before) is False
    assert attachment_expired(CDN_EXPIRES, None, now=after) is True
    assert attachment_expired(None, before, now=before) is True
    assert attachment_expired(None, None) is False

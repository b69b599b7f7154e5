"""Images on a Bluesky reply: each uploaded with ``com.atproto.repo.uploadBlob`` (the raw
bytes, typed by ``Content-Type``), then named in the post's ``app.bsky.embed.images``.

Blobs are uploaded again when a send is retried; the post itself is created once, at
the rkey derived from the outbox key (``posts.py``), and an unused blob is discarded by
the PDS."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from socialdesk.channels.base import AccountRef, OutboundImage, SendError, SendFailure
from socialdesk.channels.bluesky.posts import Xrpc


async def upload_blob(xrpc: Xrpc, account: AccountRef, image: OutboundImage) -> dict[str, Any]:
    """The blob ref to embed."""
    body = await xrpc(
        account,
        "POST",
        "com.atproto.repo.uploadBlob",
        headers={"Content-Type": image.mime_type},
        content=image.data,
    )
    blob = body.get("blob")
    if not isinstance(blob, dict) or not isinstance(blob.get("ref"), dict):
        raise SendError(SendFailure.RETRYABLE, "uploadBlob returned no blob")
    return blob


async def images_embed(
    xrpc: Xrpc, account: AccountRef, images: Sequence[OutboundImage]
) -> dict[str, Any]:
    """``app.bsky.embed.images`` for the post: ``alt`` is required, the agent's description
    of the image as plain text, or empty when none was given."""
    return {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": i.alt, "image": await upload_blob(xrpc, account, i)} for i in images],
    }

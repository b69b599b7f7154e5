"""The X emulator's media: ``POST /2/media/upload`` (one-shot, multipart ``media`` with
``media_category`` ``tweet_image`` or ``dm_image``) and the checks a post's
``media.media_ids`` (at most 4) or a DM's ``attachments[].media_id`` (one) pass: each id
uploaded by the same user, for that use, not yet used.

Answer, as X's v2 endpoint: ``200 {"data": {"id", "media_key": "3_<id>", "size",
"expires_after_secs", "image": {"image_type", "w", "h"}}}``. ``POST /2/media/metadata``
sets an uploaded image's ``alt_text`` (at most 1,000 characters) before it is posted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_IMAGE_BYTES = 5 * 1024 * 1024
CATEGORIES = frozenset({"tweet_image", "dm_image"})
MAX_ALT_TEXT = 1000


@dataclass
class MediaStore:
    """Uploaded media by id: owner, category, size, type and where it went (or None)."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def problem(self, user_id: str, ids: list[str], category: str, most: int) -> str | None:
        """Why these ids cannot go on this post or DM, or None (and then they are used)."""
        if len(ids) > most:
            return f"at most {most} media ids may be attached"
        for media_id in ids:
            item = self.items.get(media_id)
            if item is None or item["user_id"] != user_id:
                return f"Your media IDs are invalid: {media_id}"
            if item["category"] != category or item["used"]:
                return f"media {media_id} cannot be used here"
        for media_id in ids:
            self.items[media_id]["used"] = True
        return None


def add_media_routes(
    app: FastAPI,
    store: MediaStore,
    guard: Callable[[Request, str], tuple[str | None, dict[str, str], JSONResponse | None]],
    new_id: Callable[[], str],
    record: Callable[[dict[str, Any]], None],
    invalid: Callable[[str], dict[str, Any]],
) -> None:
    @app.post("/2/media/upload")
    async def upload_media(request: Request) -> JSONResponse:
        user_id, headers, error = guard(request, "POST /2/media/upload")
        if error is not None or user_id is None:
            return error or JSONResponse({}, 500)
        form = await request.form()
        media = form.get("media")
        category = str(form.get("media_category") or "tweet_image")
        if media is None or isinstance(media, str):
            return JSONResponse(invalid("media: required"), 400, headers)
        if category not in CATEGORIES:
            return JSONResponse(invalid(f"media_category: unsupported {category}"), 400, headers)
        data = await media.read()
        mime_type = str(form.get("media_type") or media.content_type or "")
        if mime_type not in IMAGE_TYPES:
            return JSONResponse(invalid(f"media_type: unsupported {mime_type}"), 400, headers)
        if not data or len(data) > MAX_IMAGE_BYTES:
            return JSONResponse(invalid("media: size out of range"), 400, headers)
        media_id = new_id()
        store.items[media_id] = {
            "user_id": user_id, "category": category, "size": len(data),
            "mime_type": mime_type, "used": False,
        }  # fmt: skip
        data_out = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(data),
            "expires_after_secs": 86_400,
            "image": {"image_type": mime_type, "w": 0, "h": 0},
        }
        record(
            {
                "endpoint": "POST /2/media/upload",
                "path": request.url.path,
                "user_id": user_id,
                "media_category": category,
                "data": data_out,
            }
        )
        return JSONResponse({"data": data_out}, 200, headers)

    @app.post("/2/media/metadata")
    async def media_metadata(request: Request) -> JSONResponse:
        """X's v2 media metadata: ``{"id", "metadata": {"alt_text": {"text"}}}``; the
        text is at most 1,000 characters, the media the caller's and not yet posted."""
        user_id, headers, error = guard(request, "POST /2/media/metadata")
        if error is not None or user_id is None:
            return error or JSONResponse({}, 500)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse(invalid("body: not JSON"), 400, headers)
        media_id = body.get("id") if isinstance(body, dict) else None
        metadata = body.get("metadata") if isinstance(body, dict) else None
        alt = metadata.get("alt_text") if isinstance(metadata, dict) else None
        text = alt.get("text") if isinstance(alt, dict) else None
        if not isinstance(media_id, str) or not isinstance(text, str):
            required = "$.id and $.metadata.alt_text.text: required"
            return JSONResponse(invalid(required), 400, headers)
        if len(text) > MAX_ALT_TEXT:
            return JSONResponse(
                invalid(f"$.metadata.alt_text.text: at most {MAX_ALT_TEXT} characters"),
                400,
                headers,
            )
        item = store.items.get(media_id)
        if item is None or item["user_id"] != user_id or item["used"]:
            return JSONResponse(invalid(f"Your media IDs are invalid: {media_id}"), 400, headers)
        item["alt_text"] = text
        data_out = {"id": media_id, "associated_metadata": {"alt_text": {"text": text}}}
        record(
            {
                "endpoint": "POST /2/media/metadata",
                "path": request.url.path,
                "user_id": user_id,
                "media_id": media_id,
                "alt_text": text,
            }
        )
        return JSONResponse({"data": data_out}, 200, headers)

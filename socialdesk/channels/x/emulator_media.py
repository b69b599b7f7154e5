"""The X emulator's media: ``POST /2/media/upload`` (one-shot, multipart ``media`` with
``media_category`` ``tweet_image`` or ``dm_image``) and the checks a post's
``media.media_ids`` (at most 4) or a DM's ``attachments[].media_id`` (one) pass: each id
uploaded by the same user, for that use, not yet used.

Answer, as X's v2 endpoint: ``200 {"data": {"id", "media_key": "3_<id>", "size",
"expires_after_secs", "image": {"image_type", "w", "h"}}}``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_IMAGE_BYTES = 5 * 1024 * 1024
CATEGORIES = frozenset({"tweet_image", "dm_image"})


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

"""The WhatsApp emulator's media: ``POST /{phone-number-id}/media`` (multipart ``file``,
``type``, ``messaging_product=whatsapp``) keeps an image and answers its id, and an
``image`` message names that id with an optional caption (1024 characters).

Images are typed by their bytes, like the Cloud API does; JPEG and PNG up to 5 MB are
taken, anything else fails with code 131053 (media upload error). A message naming an
unknown media id, or another number's, fails with code 100.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from socialdesk.domain.media_types import sniff_mime

IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_CAPTION = 1024


class HoldsMedia(Protocol):
    media: dict[str, dict[str, Any]]


def _error(code: int, message: str, details: str) -> JSONResponse:
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AemulatorTrace",
    }
    return JSONResponse({"error": error}, status_code=400)


def _upload_error(details: str) -> JSONResponse:
    return _error(131053, "(#131053) Media upload error", details)


async def store_media(
    state: HoldsMedia, number_id: str, request: Request
) -> tuple[str, JSONResponse | None]:
    """The new media id, or the Cloud API's error for the upload."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return "", _error(100, "(#100) Invalid parameter", "the body must be multipart")
    form = await request.form()
    if form.get("messaging_product") != "whatsapp":
        return "", _error(100, "(#100) Invalid parameter", "messaging_product is required")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return "", _error(100, "(#100) The parameter file is required.", "file is required")
    data = await upload.read()
    mime_type = sniff_mime(data[:16])
    if mime_type not in IMAGE_TYPES:
        return "", _upload_error(f"Unsupported file type: {mime_type or 'unknown'}")
    if len(data) > MAX_IMAGE_BYTES:
        return "", _upload_error(f"Image is larger than {MAX_IMAGE_BYTES} bytes")
    media_id = str(10**15 + secrets.randbelow(9 * 10**15))
    state.media[media_id] = {
        "phone_number_id": number_id,
        "mime_type": mime_type,
        "stated_type": form.get("type"),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sent_with": [],
    }
    return media_id, None


def check_image(state: HoldsMedia, number_id: str, message: dict[str, Any]) -> JSONResponse | None:
    """An image message's ``image`` as the Cloud API checks it, or its error."""
    image = message.get("image")
    if not isinstance(image, dict):
        return _error(100, "(#100) Invalid parameter", "image is required")
    stored = state.media.get(str(image.get("id") or ""))
    if stored is None or stored["phone_number_id"] != number_id:
        return _error(100, "(#100) Invalid parameter", "image.id is not a media id of this number")
    caption = image.get("caption", "")
    if not isinstance(caption, str) or len(caption) > MAX_CAPTION:
        return _error(
            100, f"(#100) Param image['caption'] must be at most {MAX_CAPTION} characters long.", ""
        )
    return None

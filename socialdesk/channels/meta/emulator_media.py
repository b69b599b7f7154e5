"""How the Meta emulator reads a Graph call's parameters (``graph_params``), and the
image on a Page comment reply: ``POST /{comment-id}/comments``
as multipart, ``message`` beside the image file in ``source`` (Graph's form; the other
forms, ``attachment_url`` and ``attachment_id``, are not emulated).

The image is typed by its bytes (Graph does not trust the part's stated type either);
an empty, unknown or too large one fails with Graph's photo error, code 100 /
subcode 1366046, as a comment with a bad photo does on Facebook.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.datastructures import UploadFile

from socialdesk.channels.meta.emulator_model import GraphError
from socialdesk.domain.media_types import sniff_mime

# What Facebook takes on a comment (its documented photo limit is 4 MB for comments
# sent this way; larger photos must be hosted and sent by attachment_url).
COMMENT_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
COMMENT_IMAGE_MAX_BYTES = 4_000_000
BAD_PHOTO = (
    "Your photos couldn't be uploaded. Photos should be less than 4 MB and saved as "
    "JPG, PNG or GIF files."
)


async def multipart_params(request: Request) -> tuple[dict[str, Any], UploadFile | None]:
    """The text fields of a multipart body, and the ``source`` file if there is one."""
    form = await request.form()
    params: dict[str, Any] = {}
    source: UploadFile | None = None
    for key, value in form.multi_items():
        if isinstance(value, str):
            params[key] = value
        elif key == "source":
            source = value
        else:
            raise GraphError(100, f"(#100) Unexpected file parameter {key}")
    return params, source


async def comment_image(source: UploadFile) -> dict[str, Any]:
    """The image as stored on the comment: its type (by its bytes), size and digest."""
    data = await source.read()
    mime_type = sniff_mime(data[:16])
    if not data or mime_type not in COMMENT_IMAGE_TYPES or len(data) > COMMENT_IMAGE_MAX_BYTES:
        raise GraphError(100, BAD_PHOTO, 1366046)
    return {
        "kind": "photo",
        "mime_type": mime_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


async def graph_params(request: Request) -> dict[str, Any]:
    """Query, form and JSON parameters merged; form values may be JSON strings."""
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        # An image on a comment reply: the file stays aside for the route.
        fields, source = await multipart_params(request)
        return params | fields | ({"_source": source} if source is not None else {})
    raw = await request.body()
    if raw and "json" in content_type:
        try:
            body = json.loads(raw)
        except ValueError:
            raise GraphError(100, "(#100) Invalid JSON body", kind="OAuthException") from None
        if isinstance(body, dict):
            params.update(body)
    elif raw:
        for key, value in parse_qsl(raw.decode("utf-8"), keep_blank_values=True):
            params[key] = value
    for key in ("recipient", "message"):
        if isinstance(params.get(key), str) and params[key].startswith("{"):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise GraphError(100, f"(#100) Invalid {key} parameter") from None
    return params

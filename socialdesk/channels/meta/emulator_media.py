"""How the Meta emulator reads a Graph call's parameters (``graph_params``), and the
images it takes:

- on a Page comment reply, ``POST /{comment-id}/comments`` as multipart, ``message``
  beside the image file in ``source`` (Graph's form; the other forms, ``attachment_url``
  and ``attachment_id``, are not emulated). An empty, unknown or too large photo fails
  with Graph's photo error, code 100 / subcode 1366046;
- on a Messenger or Instagram DM, ``POST /{page-id}/messages`` as multipart:
  ``recipient``, ``messaging_type`` and ``message`` =
  ``{"attachment": {"type": "image", "payload": {"is_reusable": false}}}`` as JSON
  strings beside the file in ``filedata`` (the Send API's upload-and-send). A message
  carries text or one attachment, not both. A file that is not an image the platform
  takes (Messenger: JPEG, PNG, GIF up to 25 MB; Instagram: PNG, JPEG up to 8 MB) fails
  with code 100 / subcode 2018047, Meta's upload failure. ``payload.url`` and
  ``payload.attachment_id`` are not emulated (refused with code 100).

Images are typed by their bytes (Graph does not trust the part's stated type either).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.datastructures import UploadFile

from socialdesk.channels.emulator_core import EmulatorCore
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


# The file parameters Graph takes: a comment's photo, a DM's uploaded attachment.
FILE_PARAMS = ("source", "filedata")
DM_IMAGE_TYPES = {
    "page": frozenset({"image/jpeg", "image/png", "image/gif"}),
    "instagram": frozenset({"image/jpeg", "image/png"}),
}
DM_IMAGE_MAX_BYTES = {"page": 25_000_000, "instagram": 8_000_000}
UPLOAD_FAILED = (100, "(#100) Upload attachment failure.", 2018047)


async def multipart_params(request: Request) -> dict[str, Any]:
    """The text fields of a multipart body, and its file as ``_source``/``_filedata``."""
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            params[key] = value
        elif key in FILE_PARAMS:
            params[f"_{key}"] = value
        else:
            raise GraphError(100, f"(#100) Unexpected file parameter {key}")
    return params


async def dm_image(message: dict[str, Any], params: dict[str, Any], kind: str) -> bytes:
    """The image a DM's ``message.attachment`` uploads in ``filedata``, checked as Meta
    checks it (``kind``: the sending account's, ``page`` or ``instagram``)."""
    if "text" in message:
        raise GraphError(100, "(#100) Only one of text or attachment can be set in message")
    attachment = message.get("attachment")
    if not isinstance(attachment, dict) or attachment.get("type") not in (
        "image",
        "audio",
        "video",
        "file",
        "template",
    ):
        raise GraphError(
            100,
            "(#100) param message[attachment][type] must be one of "
            "{image, audio, video, file, template}",
        )
    if attachment["type"] != "image":
        raise GraphError(100, "(#100) Only image attachments are emulated")
    payload = attachment.get("payload")
    upload = params.pop("_filedata", None)
    if not isinstance(payload, dict):
        raise GraphError(100, "(#100) param message[attachment][payload] must be an object")
    if upload is None:
        if payload.get("url") or payload.get("attachment_id"):
            raise GraphError(100, "(#100) payload.url and attachment_id are not emulated")
        raise GraphError(100, "(#100) An image attachment needs payload.url or filedata")
    data: bytes = await upload.read()
    mime_type = sniff_mime(data[:16])
    if not data or mime_type not in DM_IMAGE_TYPES[kind] or len(data) > DM_IMAGE_MAX_BYTES[kind]:
        raise GraphError(*UPLOAD_FAILED)
    return data


def hold_image(core: EmulatorCore, mid: str, data: bytes, base_url: str) -> dict[str, Any]:
    """Keep a sent DM image like Meta's CDN copy (served at ``/media/…``): what the
    emulator records of it, with the URL its echo and read-back give."""
    mime_type = str(sniff_mime(data[:16]))
    core.media[f"{mid}.img"] = (data, mime_type)
    return {
        "mime_type": mime_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "url": f"{base_url.rstrip('/')}/media/{mid}.img",
    }


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
    raw = b""
    if content_type.startswith("multipart/form-data"):
        # An image on a comment reply or a DM: the file stays aside for the route.
        params.update(await multipart_params(request))
    else:
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

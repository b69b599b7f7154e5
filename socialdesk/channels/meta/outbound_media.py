"""The images of Meta replies as Graph takes them: a Facebook comment reply's photo as
multipart ``source`` beside its ``message`` (one call), a Messenger or Instagram DM's
image as a message of its own, uploaded with the send as multipart ``filedata``.

Why ``filedata`` and not the other two forms of the Send API: ``payload.url`` needs the
image at a public URL Meta can fetch (the desk's attachment storage is not public), and
an upload to ``/{page-id}/message_attachments`` first would be a second call whose
``attachment_id`` expires after 90 days, for an image sent once.
"""

from __future__ import annotations

from socialdesk.channels.base import OutboundRequest, ReplyKind, SendError, SendFailure


def comment_photo(
    request: OutboundRequest, instagram: bool
) -> dict[str, tuple[str, bytes, str]] | None:
    """The photo of a Facebook comment reply as Graph's multipart ``source``, sent in the
    same call as its ``message``: one call, so the reply is posted (and read back)
    whole. Instagram comment replies carry none (the descriptor refuses images on
    them before a reply is written); a DM's image is ``dm_content``."""
    if not request.images:
        return None
    if instagram or request.kind is not ReplyKind.PUBLIC_REPLY:
        raise SendError(SendFailure.PERMANENT, "Meta takes an image only on a Page comment reply")
    if len(request.images) > 1:
        raise SendError(SendFailure.PERMANENT, "a Facebook comment carries one image")
    image = request.images[0]
    return {"source": (image.name, image.data, image.mime_type)}


def dm_content(request: OutboundRequest) -> dict[str, object]:
    """A DM's ``message``: its text, or one image (a DM with images goes out as the text
    then one message per image: the Send API takes text or an attachment, not both)."""
    if not request.images:
        return {"message": {"text": request.body}}
    if len(request.images) > 1 or request.body.strip():
        raise SendError(SendFailure.PERMANENT, "a Meta DM carries its text or one image")
    # Uploaded with the send (``filedata``), so no public URL of the image is needed
    # and nothing is kept for reuse (an attachment_id would expire after 90 days).
    return {"message": {"attachment": {"type": "image", "payload": {"is_reusable": False}}}}


def dm_image_file(request: OutboundRequest) -> dict[str, tuple[str, bytes, str]]:
    image = request.images[0]
    return {"filedata": (image.name, image.data, image.mime_type)}

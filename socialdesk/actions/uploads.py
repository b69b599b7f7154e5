"""Images agents attach to replies: the upload (typed by its bytes, size-limited, kept
in the attachment storage) and the rule a reply with images must pass, whichever door
it came through (``POST /api/v1/tickets/{id}/replies``, the composer's file input).

The rule is the network's, from its descriptor's ``reply_images``: whether a reply of
that kind may carry images at all, how many, how large and of which types, and how long
each image's alt text may be. A network without it refuses with 422
``images_not_allowed`` and the reason.

A reply that waits for a lead's approval holds its uploads (``hold_for_draft``): no
other reply can take them, the lead sees them, approving sends them after the same
checks again (``draft_uploads``), and a rejected draft lets them go (``release_draft``),
unused again like any upload no reply has named."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError, audit, require_role
from socialdesk.channels.base import ReplyKind
from socialdesk.channels.descriptor import Absent
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import Role
from socialdesk.domain.media_types import REPLY_IMAGE_TYPES, sniff_mime
from socialdesk.store.db import utcnow
from socialdesk.store.file_storage import FileStorage, StorageError
from socialdesk.store.models import Message, MessageAttachment, Upload, User

# The roles that write replies (actions/tickets.py's, which imports this module).
_WRITERS = frozenset({Role.ADMIN, Role.LEAD, Role.AGENT, Role.MARKETING})
# More images than any network takes on one reply (e-mail: 10); the API bounds the list.
MAX_ATTACHMENTS = 10
# The longest alt text any network takes (Bluesky's app: 2,000); each network's own,
# shorter limit is checked on the reply (its descriptor's ``reply_images.max_alt``).
MAX_ALT_TEXT = 2000


class ImagesRefused(ActionError):
    """The network (or this kind of reply on it) does not take these images."""

    code = "images_not_allowed"

    def __init__(self, message: str) -> None:
        super().__init__(message, 422)


def _clean_name(name: str | None) -> str:
    """The file name alone (no folders a browser or client sent), at most 200 chars."""
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    return "".join(c for c in base if c.isprintable())[:200] or "image"


def store_upload(
    session: Session,
    storage: FileStorage,
    actor: User,
    workspace_id: int,
    data: bytes,
    name: str | None,
    *,
    max_bytes: int,
    alt_text: str | None = None,
) -> Upload:
    """Keep an uploaded image: 422 when empty, 413 above ``max_bytes``, 415 unless its
    bytes are PNG, JPEG, GIF or WebP (the stated type is ignored), 503 when the storage
    did not take it. The file is written before the row, keyed by its SHA-256, so a
    transaction that fails leaves at most a file nothing points at."""
    require_role(actor, _WRITERS, "your role can read tickets but not change them")
    alt = clean_alt(alt_text)
    if not data:
        raise ActionError("the file is empty", 422)
    if len(data) > max_bytes:
        raise ActionError(f"the file has {len(data)} bytes; uploads take up to {max_bytes}", 413)
    mime_type = sniff_mime(data[:64])
    if mime_type not in REPLY_IMAGE_TYPES:
        found = mime_type or "not a known format"
        raise ActionError(f"only PNG, JPEG, GIF or WebP images can be attached ({found})", 415)
    digest = hashlib.sha256(data).hexdigest()
    key = f"ws{workspace_id}/{digest}"
    try:
        storage.put(key, data, mime_type)
    except StorageError as exc:
        raise ActionError(f"the attachment storage did not take the file: {exc}", 503) from None
    upload = Upload(
        workspace_id=workspace_id,
        user_id=actor.id,
        stored_key=key,
        mime_type=mime_type,
        size=len(data),
        sha256=digest,
        name=_clean_name(name),
        alt_text=alt,
        created_at=utcnow(),
    )
    session.add(upload)
    session.flush()
    audit(
        session, actor, "upload.stored", "upload", upload.id, workspace_id,
        {"name": upload.name, "size": upload.size, "mime_type": mime_type},
    )  # fmt: skip
    return upload


def clean_alt(value: str | None) -> str | None:
    """An image's alt text as stored: plain text, trimmed, None when empty; 422 beyond
    ``MAX_ALT_TEXT`` characters."""
    text = "".join(c for c in (value or "") if c.isprintable() or c in "\n\t").strip()
    if len(text) > MAX_ALT_TEXT:
        raise ActionError(
            f"an image description (alt text) takes up to {MAX_ALT_TEXT} characters; "
            f"this one has {len(text)}",
            422,
        )
    return text or None


def uploads_for_reply(
    session: Session,
    actor: User,
    workspace_id: int,
    upload_ids: Collection[int],
    platform: str | None,
    kind: ReplyKind,
    body: str = "",
) -> list[Upload]:
    """The uploads a reply names, in the order named, checked against the network's
    ``reply_images``: each the actor's own, in the ticket's workspace, not sent yet and
    not held by a draft awaiting approval."""
    wanted = list(dict.fromkeys(upload_ids))
    if not wanted:
        return []
    if len(wanted) > MAX_ATTACHMENTS:
        raise ImagesRefused(f"a reply takes at most {MAX_ATTACHMENTS} images")
    found = {
        u.id: u
        for u in session.scalars(
            select(Upload).where(
                Upload.id.in_(wanted),
                Upload.workspace_id == workspace_id,
                Upload.user_id == actor.id,
            )
        )
    }
    for upload_id in wanted:
        upload = found.get(upload_id)
        if upload is None:
            raise ActionError(f"upload {upload_id} not found among your uploads", 422)
        if upload.message_id is not None:
            raise ActionError(f"upload {upload_id} went out with another reply already", 422)
        if upload.draft_id is not None:
            raise ActionError(f"upload {upload_id} waits with a reply for approval", 422)
    uploads = [found[i] for i in wanted]
    check_images(uploads, platform, kind, body)
    return uploads


def check_images(
    uploads: Sequence[Upload], platform: str | None, kind: ReplyKind, body: str
) -> None:
    """The network's ``reply_images`` rule over these uploads (count, size, type, alt
    text length, caption): 422 ``images_not_allowed`` with the reason. Run when a reply
    is written and again when a lead approves a draft, as the rule applies at send."""
    if not uploads:
        return
    descriptor = find_descriptor(platform)
    label = descriptor.label if descriptor else str(platform or "this channel")
    rule = descriptor.reply_images if descriptor else Absent("unknown network")
    if isinstance(rule, Absent):
        raise ImagesRefused(f"{label} does not allow images on replies: {rule.reason}")
    problem = rule.refusal(
        kind, [(u.mime_type, u.size) for u in uploads], label, body,
        [u.alt_text or "" for u in uploads],
    )  # fmt: skip
    if problem:
        raise ImagesRefused(problem)


def link_uploads(session: Session, message: Message, uploads: Sequence[Upload]) -> None:
    """The uploads become the outbound message's attachments (shown in the conversation,
    served by ``/attachments/{id}/content``, read by the delivery worker to send)."""
    now = utcnow()
    for position, upload in enumerate(uploads):
        session.add(
            MessageAttachment(
                message_id=message.id,
                position=position,
                kind="image",
                mime_type=upload.mime_type,
                size=upload.size,
                name=upload.name,
                stored_key=upload.stored_key,
                stored_size=upload.size,
                sha256=upload.sha256,
                stored_mime_type=upload.mime_type,
                fetched_at=now,
                alt_text=upload.alt_text,
            )
        )
        upload.message_id = message.id
        upload.draft_id = None
        upload.draft_position = None


def hold_for_draft(session: Session, draft_id: int, uploads: Sequence[Upload]) -> None:
    """The uploads wait with the draft, in the order the reply named them."""
    for position, upload in enumerate(uploads):
        upload.draft_id = draft_id
        upload.draft_position = position
    session.flush()


def draft_upload_rows(session: Session, draft_ids: Collection[int]) -> dict[int, list[Upload]]:
    """The uploads each draft holds, in order (the approval queue shows them)."""
    found: dict[int, list[Upload]] = {}
    if not draft_ids:
        return found
    for upload in session.scalars(
        select(Upload)
        .where(Upload.draft_id.in_(list(draft_ids)))
        .order_by(Upload.draft_id, Upload.draft_position, Upload.id)
    ):
        found.setdefault(int(upload.draft_id or 0), []).append(upload)
    return found


def release_draft(session: Session, draft_id: int) -> list[int]:
    """A rejected draft lets its uploads go: unused again, its author may send them on
    another reply. Returns their ids (for the audit entry)."""
    released = draft_upload_rows(session, [draft_id]).get(draft_id, [])
    for upload in released:
        upload.draft_id = None
        upload.draft_position = None
    session.flush()
    return [u.id for u in released]

"""An e-mail's MIME parts other than its body, as attachment records.

``EmailMessage.iter_attachments`` yields every part that is not the chosen body:
``Content-Disposition: attachment`` files and inline parts (images of an HTML body in
``multipart/related``, referenced by ``Content-ID``). The mail carries the bytes, not a
link, so the record has a name, a type and a size; the bytes are not kept yet.
"""

from __future__ import annotations

from email.message import EmailMessage

from socialdesk.domain import attachments as fields
from socialdesk.domain.attachments import Attachment, kind_of_mime


def mime_attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage) or part.is_multipart():
            continue
        mime_type = fields.mime(part.get_content_type())
        try:
            payload = part.get_payload(decode=True)
        except (LookupError, ValueError):
            payload = None
        content_id = fields.text(str(part.get("Content-ID") or "").strip("<> "), 320)
        inline = part.get_content_disposition() == "inline"
        found.append(
            Attachment(
                kind=kind_of_mime(mime_type),
                mime_type=mime_type,
                size=len(payload) if isinstance(payload, bytes) else None,
                name=fields.text(part.get_filename()),
                caption="Inline image" if inline and mime_type and "image" in mime_type else None,
                platform_media_id=content_id,
            )
        )
    return tuple(found)

"""An attachment's stored file as an HTTP response, for the API and the pages alike.

Shown inline only when its bytes are one of the plain image formats; anything else is
a download. ``nosniff`` and a sandboxing CSP keep a file from ever running as a page of
the desk, and ``private`` keeps shared caches from keeping a customer's photo."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from socialdesk.domain.media_types import served_type, sniff_mime
from socialdesk.store.file_storage import FileStorage, StorageError, StoredFileMissing
from socialdesk.store.repos.attachments import StoredAttachment


class FileUnavailable(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def file_response(storage: FileStorage, stored: StoredAttachment) -> Response:
    try:
        data = storage.get(stored.key)
    except StoredFileMissing:
        raise FileUnavailable(404, "the stored file is missing") from None
    except StorageError as exc:
        raise FileUnavailable(503, f"the attachment storage did not answer: {exc}") from None
    content_type, inline = served_type(sniff_mime(data[:64]))
    if not inline and stored.mime_type and not stored.mime_type.startswith("text/"):
        content_type = stored.mime_type
    filename = quote(stored.name or "attachment", safe="")
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=3600",
        },
    )

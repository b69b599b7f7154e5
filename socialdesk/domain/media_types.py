"""What a file's first bytes say it is, and which types a browser may show inline.

A network's (or a sender's) stated type is not trusted: a stored file is served with
the type its bytes show, and only the few image formats below are ever shown inline;
anything else is served as a download (``Content-Disposition: attachment``)."""

from __future__ import annotations

# (offset, magic bytes, type): the formats customers send (photos, clips, voice, PDFs).
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (0, b"PK\x03\x04", "application/zip"),
)

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# What an agent may upload to attach to a reply: the same plain image formats, typed by
# their bytes (the browser's stated type is not trusted).
REPLY_IMAGE_TYPES = INLINE_IMAGE_TYPES


def sniff_mime(head: bytes) -> str | None:
    """The type the first bytes of a file show, or None when they match nothing known."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1"):
            return "image/heic"
        if brand == b"M4A ":
            return "audio/mp4"
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    for offset, magic, mime_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return mime_type
    return None


def served_type(sniffed: str | None) -> tuple[str, bool]:
    """(Content-Type, inline?) a stored file is served with: inline only for images."""
    if sniffed in INLINE_IMAGE_TYPES:
        return sniffed, True
    return sniffed or "application/octet-stream", False

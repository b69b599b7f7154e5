"""Shared by the reply-image tests: a real (tiny) PNG and uploading it through the API."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx


def tiny_png(red: int = 200, width: int = 2, height: int = 2) -> bytes:
    """A PNG of one colour (2 by 2 unless told): real enough for a browser to draw."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes([red, 40, 40]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def upload(api: httpx.Client, data: bytes, name: str = "photo.png", mime: str = "image/png") -> Any:
    response = api.post("/uploads", files={"file": (name, data, mime)})
    assert response.status_code == 201, response.text
    return response.json()

"""Shared by the reply-image tests: a real (tiny) PNG and uploading it through the API."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx

from socialdesk.channels.email.emulator import MailEmulator


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


def mailbox_with_a_customer_mail(api: httpx.Client, mail: MailEmulator) -> None:
    """Connect the emulated mailbox as an e-mail account and let a customer write to it
    (the e-mail image tests start from that ticket)."""
    created = api.post(
        "/channel-accounts",
        json={
            "platform": "email",
            "handle": "Acme Support",
            "external_id": mail.address,
            "secrets": mail.account_secrets(),
            "settings": mail.account_settings() | {"poll_interval_seconds": 0.2},
        },
    )
    assert created.status_code == 201, created.text
    mail.deliver(
        MailEmulator.customer_mail(
            "ann.lee@example.org", "Kettle leaks", "It leaks.", to=mail.address
        )
    )

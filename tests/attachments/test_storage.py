"""The attachment storage: AWS Signature V4 against AWS's published example, keys that
cannot escape the folder, the bytes-say-what-they-are sniffing, and both backends over
real I/O (the S3 one against the S3 emulator, which recomputes every signature)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from socialdesk.config import Settings
from socialdesk.domain.media_types import served_type, sniff_mime
from socialdesk.emulators.s3 import S3State, create_s3_emulator
from socialdesk.emulators.server import serve_app
from socialdesk.store.file_storage import (
    FolderStorage,
    S3Storage,
    StorageError,
    StoredFileMissing,
    checked_key,
    sigv4_authorization,
    storage_from_settings,
)

EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ACCESS, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_sigv4_matches_the_aws_documented_get_object_example() -> None:
    # docs.aws.amazon.com AmazonS3 "sig-v4-header-based-auth", Example: GET Object.
    header = sigv4_authorization(
        method="GET",
        path="/test.txt",
        query="",
        headers={
            "Host": "examplebucket.s3.amazonaws.com",
            "Range": "bytes=0-9",
            "x-amz-content-sha256": EMPTY_SHA,
            "x-amz-date": "20130524T000000Z",
        },
        payload_sha256=EMPTY_SHA,
        access_key=ACCESS,
        secret_key=SECRET,
        region="us-east-1",
    )
    assert header == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("ws1/" + "a" * 64, True),
        ("ws12/photo.jpg", True),
        ("../etc/passwd", False),
        ("/abs/path", False),
        ("ws1/../../x", False),
        ("ws1//x", False),
        ("", False),
        ("ws1/.hidden", False),
    ],
)
def test_only_keys_of_our_shape_are_accepted(key: str, ok: bool) -> None:
    if ok:
        assert checked_key(key) == key
    else:
        with pytest.raises(StorageError):
            checked_key(key)


PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("head", "sniffed", "served"),
    [
        (PNG_HEAD, "image/png", ("image/png", True)),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", ("image/jpeg", True)),
        (b"GIF89a\x01\x00", "image/gif", ("image/gif", True)),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", ("image/webp", True)),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4", ("video/mp4", False)),
        (b"%PDF-1.7\n", "application/pdf", ("application/pdf", False)),
        (b"OggS\x00\x02", "audio/ogg", ("audio/ogg", False)),
        # An "image" that is really a page must never be shown inline.
        (b"<html><script>alert(1)</script>", None, ("application/octet-stream", False)),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None, ("application/octet-stream", False)),
        (b"", None, ("application/octet-stream", False)),
    ],
)
def test_the_bytes_decide_the_type_and_only_plain_images_are_inline(
    head: bytes, sniffed: str | None, served: tuple[str, bool]
) -> None:
    assert sniff_mime(head) == sniffed
    assert served_type(sniff_mime(head)) == served


def test_folder_storage_keeps_private_files_and_says_when_one_is_missing(tmp_path: Path) -> None:
    storage = FolderStorage(tmp_path / "files")
    storage.put("ws1/abc", b"photo bytes", "image/png")
    assert storage.get("ws1/abc") == b"photo bytes"
    mode = stat.S_IMODE((tmp_path / "files" / "ws1" / "abc").stat().st_mode)
    assert mode & 0o077 == 0  # nobody but the desk's user reads a customer's photo
    storage.put("ws1/abc", b"again", "image/png")  # replaced whole
    assert storage.get("ws1/abc") == b"again"
    assert [p.name for p in (tmp_path / "files" / "ws1").iterdir()] == ["abc"]
    with pytest.raises(StoredFileMissing):
        storage.get("ws1/nothing")
    with pytest.raises(StorageError):
        storage.put("../escape", b"x", "text/plain")


@pytest.fixture
def s3() -> Iterator[tuple[str, S3State]]:
    state = S3State(access_key="desk-key", secret_key="desk-secret", region="eu-west-1")
    with serve_app(create_s3_emulator(state)) as url:
        yield url, state


def test_s3_storage_round_trip_with_signatures_the_emulator_checks(s3: tuple[str, S3State]) -> None:
    url, state = s3
    storage = S3Storage(url, "desk-files", "desk-key", "desk-secret", "eu-west-1")
    storage.put("ws1/" + "b" * 64, PNG_HEAD, "image/png")
    assert storage.get("ws1/" + "b" * 64) == PNG_HEAD
    assert state.objects[("desk-files", "ws1/" + "b" * 64)] == (PNG_HEAD, "image/png")
    with pytest.raises(StoredFileMissing):
        storage.get("ws1/missing")
    assert state.refused == []

    wrong = S3Storage(url, "desk-files", "desk-key", "not-the-secret", "eu-west-1")
    with pytest.raises(StorageError, match="HTTP 403"):
        wrong.put("ws1/x", b"data", "image/png")
    assert state.refused == ["SignatureDoesNotMatch"]
    assert ("desk-files", "ws1/x") not in state.objects


def test_the_s3_emulator_refuses_a_body_that_is_not_the_signed_one(s3: tuple[str, S3State]) -> None:
    url, state = s3
    signed_for = b"the signed bytes"
    storage = S3Storage(url, "desk-files", "desk-key", "desk-secret", "eu-west-1")
    sent: list[httpx.Request] = []

    def swap_body(request: httpx.Request) -> None:
        sent.append(request)

    # A request signed for one body, sent with another (a proxy that tampers).
    storage.client.event_hooks["request"] = [swap_body]
    storage.put("ws1/ok", signed_for, "text/plain")
    request = sent[0]
    tampered = httpx.Request(
        "PUT", request.url, headers=request.headers, content=b"other bytes!!!!!"
    )
    r = httpx.Client().send(tampered)
    assert r.status_code == 403
    assert state.refused[-1] == "x-amz-content-sha256 does not match the payload"
    assert state.objects[("desk-files", "ws1/ok")][0] == signed_for
    # Unsigned requests are refused outright.
    assert httpx.get(f"{url}/desk-files/ws1/ok", timeout=30).status_code == 403


def test_a_half_configured_s3_backend_fails_at_start_naming_what_is_missing(tmp_path: Path) -> None:
    assert isinstance(storage_from_settings(Settings(attachment_folder=tmp_path)), FolderStorage)
    with pytest.raises(ValueError, match="SOCIALDESK_ATTACHMENT_S3_BUCKET") as refused:
        storage_from_settings(
            Settings(
                attachment_storage="s3",
                attachment_s3_endpoint="http://127.0.0.1:9",
                attachment_s3_access_key="k",
                attachment_s3_secret_key=SecretStr("super-secret-value"),
            )
        )
    assert "super-secret-value" not in str(refused.value)

"""Where attachments' files live: a folder by default, an S3-compatible bucket to scale out.

Both backends take a key the desk made (``ws<workspace>/<sha256>``) and bytes; neither
ever hands out a URL: files reach a browser only through the signed-in routes
(``/attachments/{id}/content``, ``/api/v1/attachments/{id}/content``).

The S3 backend signs each request with AWS Signature Version 4 (``sigv4_authorization``,
checked against AWS's published example in tests) and speaks path-style URLs
(``<endpoint>/<bucket>/<key>``), which AWS, MinIO, Ceph, Garage and R2 all accept.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

import httpx

from socialdesk.config import Settings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,199}){0,3}$")


class StorageError(Exception):
    """The storage refused or could not be reached (the reason, never a secret)."""


class StoredFileMissing(StorageError):
    pass


class FileStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...


def checked_key(key: str) -> str:
    """A key of our own shape: no ``..``, no leading slash, nothing a path could escape by."""
    if not _KEY.match(key):
        raise StorageError(f"not a storage key: {key!r}")
    return key


class FolderStorage:
    """Files under one folder, created readable by their owner only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written beside, then renamed: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StoredFileMissing(f"no stored file {key!r}") from None


# -- AWS Signature Version 4 ---------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_authorization(
    *,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    payload_sha256: str,
    access_key: str,
    secret_key: str,
    region: str,
    service: str = "s3",
) -> str:
    """The ``Authorization`` header for a request. ``headers`` are the ones signed (names
    any case; ``host`` and ``x-amz-date`` must be among them); ``path`` is already
    URI-encoded as sent; ``query`` is the raw query string."""
    signed = {name.lower(): " ".join(value.strip().split()) for name, value in headers.items()}
    amz_date = signed["x-amz-date"]
    day = amz_date[:8]
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, _, v in (part.partition("=") for part in query.split("&") if part)
    )
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query,
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )


class S3Storage:
    """Objects in a bucket of an S3-compatible service, one signed request each."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self.access_key = access_key
        self._secret_key = secret_key
        self.region = region
        self.client = client or httpx.Client(timeout=30)

    def _request(
        self, method: str, key: str, data: bytes = b"", content_type: str = ""
    ) -> httpx.Response:
        path = "/" + quote(self.bucket, safe="") + "/" + quote(checked_key(key), safe="/-_.~")
        url = self.endpoint + path
        full_path = urlsplit(url).path
        payload_sha256 = hashlib.sha256(data).hexdigest()
        headers = {
            "host": urlsplit(url).netloc,
            "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-content-sha256": payload_sha256,
        }
        if content_type:
            headers["content-type"] = content_type
        headers["authorization"] = sigv4_authorization(
            method=method,
            path=full_path,
            query="",
            headers=headers,
            payload_sha256=payload_sha256,
            access_key=self.access_key,
            secret_key=self._secret_key,
            region=self.region,
        )
        try:
            return self.client.request(method, url, content=data or None, headers=headers)
        except httpx.HTTPError as exc:
            raise StorageError(f"storage unreachable: {type(exc).__name__}") from None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        response = self._request("PUT", key, data, content_type)
        if response.status_code != 200:
            raise StorageError(f"storage refused the upload: HTTP {response.status_code}")

    def get(self, key: str) -> bytes:
        response = self._request("GET", key)
        if response.status_code == 404:
            raise StoredFileMissing(f"no stored file {key!r}")
        if response.status_code != 200:
            raise StorageError(f"storage refused the read: HTTP {response.status_code}")
        return response.content


def storage_from_settings(settings: Settings) -> FileStorage:
    """The configured storage; a half-configured S3 backend fails here, at start."""
    if settings.attachment_storage == "folder":
        return FolderStorage(settings.attachment_folder)
    missing = [
        name
        for name, value in (
            ("SOCIALDESK_ATTACHMENT_S3_ENDPOINT", settings.attachment_s3_endpoint),
            ("SOCIALDESK_ATTACHMENT_S3_BUCKET", settings.attachment_s3_bucket),
            ("SOCIALDESK_ATTACHMENT_S3_ACCESS_KEY", settings.attachment_s3_access_key),
            ("SOCIALDESK_ATTACHMENT_S3_SECRET_KEY", settings.attachment_s3_secret_key),
        )
        if not value
    ]
    if missing:
        raise ValueError(f"SOCIALDESK_ATTACHMENT_STORAGE=s3 needs {', '.join(missing)}")
    assert settings.attachment_s3_secret_key is not None
    return S3Storage(
        str(settings.attachment_s3_endpoint),
        str(settings.attachment_s3_bucket),
        str(settings.attachment_s3_access_key),
        settings.attachment_s3_secret_key.get_secret_value(),
        settings.attachment_s3_region,
    )

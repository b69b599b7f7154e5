"""A tiny S3-compatible object store on loopback: path-style PUT/GET/HEAD of objects,
each request's AWS Signature Version 4 recomputed from what arrived on the wire (its
own canonicalization, not the client's) and the payload checked against its declared
SHA-256. Enough to test the attachment storage's S3 backend without a real bucket.

``GET /_emulator/objects`` lists the stored keys and sizes; ``/_emulator/requests``
counts the calls."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from fastapi import FastAPI, Request, Response

_ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass
class S3State:
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    objects: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)


def _error(status: int, code: str, message: str) -> Response:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(body, status_code=status, media_type="application/xml")


def _signature_problem(state: S3State, request: Request, body: bytes) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.startswith(_ALGORITHM + " "):
        return "missing AWS4-HMAC-SHA256 Authorization"
    fields = dict(part.strip().split("=", 1) for part in header[len(_ALGORITHM) + 1 :].split(","))
    try:
        access_key, day, region, service, terminator = fields["Credential"].split("/")
        signed_names = fields["SignedHeaders"].split(";")
        given = fields["Signature"]
    except (KeyError, ValueError):
        return "malformed Authorization"
    if access_key != state.access_key:
        return "unknown access key"
    if (region, service, terminator) != (state.region, "s3", "aws4_request"):
        return "wrong credential scope"
    if "host" not in signed_names or "x-amz-date" not in signed_names:
        return "host and x-amz-date must be signed"
    declared = request.headers.get("x-amz-content-sha256", "")
    if declared != hashlib.sha256(body).hexdigest():
        return "x-amz-content-sha256 does not match the payload"
    amz_date = request.headers.get("x-amz-date", "")
    if amz_date[:8] != day:
        return "x-amz-date is not the credential's day"
    path = quote(unquote(request.url.path), safe="/-_.~")
    query = "&".join(
        sorted(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
            for k, v in request.query_params.multi_items()
        )
    )
    canonical_headers = "".join(
        f"{name}:{' '.join(request.headers.get(name, '').strip().split())}\n"
        for name in signed_names
    )
    canonical = (
        f"{request.method}\n{path}\n{query}\n{canonical_headers}\n"
        f"{';'.join(signed_names)}\n{declared}"
    )
    scope = f"{day}/{region}/s3/aws4_request"
    string_to_sign = (
        f"{_ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = f"AWS4{state.secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return "SignatureDoesNotMatch"
    return None


def create_s3_emulator(state: S3State) -> FastAPI:
    app = FastAPI(title="S3-compatible store emulator")

    @app.get("/_emulator/objects")
    async def objects() -> dict[str, int]:
        return {f"{bucket}/{key}": len(data) for (bucket, key), (data, _) in state.objects.items()}

    @app.get("/_emulator/requests")
    async def requests() -> dict[str, int]:
        return dict(state.requests)

    @app.api_route("/{bucket}/{key:path}", methods=["GET", "PUT", "HEAD"])
    async def object_(bucket: str, key: str, request: Request) -> Response:
        state.requests[request.method] += 1
        body = await request.body()
        problem = _signature_problem(state, request, body)
        if problem is not None:
            state.refused.append(problem)
            return _error(403, "SignatureDoesNotMatch", problem)
        if request.method == "PUT":
            content_type = request.headers.get("content-type", "binary/octet-stream")
            state.objects[(bucket, key)] = (body, content_type)
            etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
            return Response(status_code=200, headers={"ETag": f'"{etag}"'})
        found = state.objects.get((bucket, key))
        if found is None:
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        data, content_type = found
        if request.method == "HEAD":
            return Response(status_code=200, headers={"Content-Length": str(len(data))})
        return Response(data, media_type=content_type)

    return app

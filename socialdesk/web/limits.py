"""Request bodies are bounded before anything parses them: a size limit (413) and a
JSON nesting limit (400).

Python's ``json`` module recurses once per nesting level and raises RecursionError at
about a thousand, which no handler expects: a 1,000-deep array sent to any JSON route
(or to the public web form) was a 500. ``BodyLimits`` reads the body once, checks it,
and hands the same bytes on to the route. The signed webhooks (``/hooks/x``,
``/hooks/meta``) are left to ``web/hooks.py``, which checks the signature on the raw
bytes first and keeps a too-deep body as a failed raw event, like any malformed one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialdesk.web.errors import error_response

# Deeper than any body this API or the networks send; shallow enough that parsing,
# validating and storing it never comes near Python's recursion limit.
MAX_JSON_DEPTH = 64
# A JSON string, escapes included (the unrolled form, linear on long strings).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes that take an image upload, allowed a larger body (the upload limit).
UPLOAD_PATHS = re.compile(r"^(/api/v1/uploads|/tickets/[0-9]+/reply)$")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``body`` (JSON or not) opens more than ``limit`` arrays/objects at once.

    Brackets inside strings do not count. Text that is not JSON may be judged on its
    brackets too; it is refused anyway when it is parsed."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def too_deep_reason(limit: int = MAX_JSON_DEPTH) -> str:
    return f"JSON nested deeper than {limit} levels"


def _looks_like_json(content_type: str, body: bytes) -> bool:
    return "json" in content_type or body.lstrip()[:1] in (b"[", b"{")


class BodyLimits:
    """ASGI middleware: 413 above ``max_bytes()`` bytes, 400 when nested too deep."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: Callable[[], int],
        exempt_paths: frozenset[str] = frozenset(),
        max_depth: int = MAX_JSON_DEPTH,
        larger: tuple[re.Pattern[str], Callable[[], int]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger
        self.exempt_paths = exempt_paths
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _BODYLESS
            or scope["path"] in self.exempt_paths
        ):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()
        if self.larger is not None and self.larger[0].match(scope["path"]):
            limit = max(limit, self.larger[1]())
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await error_response(413, f"body larger than {limit} bytes")(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more = bool(message.get("more_body", False))
            if len(body) > limit:
                await error_response(413, f"body larger than {limit} bytes")(scope, receive, send)
                return
        data = bytes(body)
        content_type = headers.get("content-type", "").lower()
        if _looks_like_json(content_type, data) and json_depth_exceeds(data, self.max_depth):
            await error_response(400, too_deep_reason(self.max_depth))(scope, receive, send)
            return
        await self.app(scope, _replay(data, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect

    return replay

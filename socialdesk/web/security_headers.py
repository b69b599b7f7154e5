"""Security headers on every answer: a Content-Security-Policy, no framing, nosniff, a
Referrer-Policy, and ``Cache-Control: no-store`` on everything but static files (signed-in
pages and API answers carry tickets and customer data that must not sit in a shared or
back-button cache).

The inbox runs with ``script-src 'self'`` and ``style-src 'self'``: no inline scripts,
styles or event handlers, and HTMX is told not to inject its indicator ``<style>``
(``htmx-config`` meta in base.html; the indicator rules live in app.css).

The API description pages (``/docs`` Swagger UI, ``/redoc`` ReDoc, served from our own
files by ``web/api_docs.py``) each start with an inline script; their policy allows
exactly those scripts by SHA-256, hashed from the page as it is sent, plus inline
styles and blob workers, which ReDoc needs. The public web form (``/hooks/web/…``) is a
stand-alone page with one inline style, allowed by its hash; brands embed it in an
``<iframe>`` (docs/channels.md), so it is the one page that may be framed.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SWAGGER_CDN = "https://cdn.jsdelivr.net"
_ALWAYS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
WEBFORM_PREFIX = "/hooks/web/"
DOCS_PAGES = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
# Files that are the same for everyone; everything else may carry a signed-in user's data.
CACHEABLE = ("/static/", "/docs/assets/")


def _hash(body: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"


def webform_policy(page_html: str) -> str:
    styles = " ".join(
        _hash(body) for body in re.findall(r"<style>(.*?)</style>", page_html, flags=re.DOTALL)
    )
    return (
        f"default-src 'none'; style-src {styles}; form-action 'self'; base-uri 'none'; "
        "frame-ancestors *"
    )


def script_hashes(html: str) -> list[str]:
    """CSP source expressions for each inline ``<script>`` of a page."""
    return [_hash(body) for body in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)]


def docs_policy(page_html: str) -> str:
    hashes = "".join(" " + h for h in script_hashes(page_html))
    return (
        f"default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: https:; worker-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Pure ASGI (not BaseHTTPMiddleware), so streamed answers such as the live event
    stream pass through untouched."""

    def __init__(self, app: ASGIApp, webform_csp: str) -> None:
        self.app = app
        self.webform_csp = webform_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path in DOCS_PAGES:
            await self._docs_page(scope, receive, send)
            return
        framable = path.startswith(WEBFORM_PREFIX)
        policy = self.webform_csp if framable else APP_POLICY
        cacheable = path.startswith(CACHEABLE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", policy)
                if not framable:
                    headers.setdefault("x-frame-options", "DENY")
                if not cacheable:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A small HTML page, held until complete so its inline scripts can be hashed."""
        start: Message | None = None
        body = bytearray()

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                headers = MutableHeaders(scope=start)
                for name, value in _ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault("x-frame-options", "DENY")
                headers["content-security-policy"] = docs_policy(body.decode("utf-8", "replace"))
                headers["cache-control"] = "no-store"
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body)})
                return
            await send(message)

        await self.app(scope, receive, hold)


def install(app: FastAPI, webform_page: str) -> None:
    app.add_middleware(SecurityHeaders, webform_csp=webform_policy(webform_page))

"""Bad input gets a 4xx, never a 500: the cases schemathesis found (issue 11), each over
real HTTP on the real database, plus the checks that keep routes added later bounded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.signatures import META_SIGNATURE_HEADER, meta_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, RawEventStatus, Role
from socialdesk.store.db import Database
from socialdesk.store.models import RawEvent
from socialdesk.web.api.params import DB_INT_MAX, parse_id, parse_int
from socialdesk.web.app import create_app
from socialdesk.web.limits import MAX_JSON_DEPTH, json_depth_exceeds
from socialdesk.web.serving import serve

PASSWORD = "correct horse battery"
META_SECRET = "meta-secret"
DEEP = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000
JSON = {"content-type": "application/json"}


@dataclass
class Site:
    url: str
    db: Database
    api: httpx.Client  # /api/v1 with an admin token
    page: httpx.Client  # signed in to the pages, CSRF header set
    app: Any


@pytest.fixture
def site(db: Database) -> Iterator[Site]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_user(s, "admin@example.com", PASSWORD, Role.ADMIN, workspace=ws)
        create_channel_account(
            s, None, workspace_id=ws.id, platform=Platform.WEB, handle="Acme", external_id="acme"
        )
    settings = Settings(meta_app_secret=META_SECRET, meta_verify_token="v", x_consumer_secret="x")
    app = create_app(settings, db)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as page:
        token = httpx.post(
            f"{url}/api/v1/auth/token",
            json={"email": "admin@example.com", "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        login = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/login").text)
        assert login
        form = {"email": "admin@example.com", "password": PASSWORD, "csrf_token": login[1]}
        assert page.post("/login", data=form).status_code == 303
        csrf = re.search(r'data-csrf="([^"]+)"', page.get("/inbox").text)
        assert csrf
        page.headers["X-CSRF-Token"] = csrf[1]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=30) as api:
            yield Site(url, db, api, page, app)


def _int_path_routes(app: Any) -> list[tuple[str, str, list[str]]]:
    """(method, full path, int path parameters) of every route, included routers too."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute):
            continue
        names = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        for method in sorted(route.methods):
            if names:
                found.append((method, str(context.path), names))
    return found


@pytest.mark.parametrize("big", [2**63, 2**64])
def test_ids_past_bigint_on_every_id_route_are_422(site: Site, big: int) -> None:
    routes = _int_path_routes(site.app)
    assert len(routes) >= 50  # API and pages; a walk that found nothing proves nothing
    for method, path, names in routes:
        url = path
        for name in names:
            url = url.replace("{" + name + "}", str(big))
        headers = {"Authorization": site.api.headers["Authorization"]}
        r = site.page.request(
            method, url, json={} if method in ("POST", "PUT", "PATCH") else None, headers=headers
        )
        assert r.status_code == 422, f"{method} {path}: {r.status_code} {r.text[:200]}"
        assert "path" in r.text or "less than or equal" in r.text, r.text


def test_every_integer_in_the_openapi_schema_is_bounded(site: Site) -> None:
    """Routes added later get the same bounds: an integer parameter or body field without
    a maximum fails here (use web/api/params.py's DbId, IdPath, Position)."""
    schema = site.api.get(f"{site.url}/openapi.json").json()
    unbounded: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer" and "maximum" not in node:
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                walk(param.get("schema"), f"{method.upper()} {path} ?{param['name']}")
    for name, component in schema["components"]["schemas"].items():
        # Response bodies describe what we send; only what clients send must be bounded.
        outgoing = ("Out", "Response", "Page", "Summary", "Detail", "Brief", "ValidationError")
        if not name.endswith(outgoing):
            walk(component, name)
    assert not unbounded, unbounded


def test_deep_json_is_400_on_the_api_the_token_endpoint_and_the_web_form(site: Site) -> None:
    for body in (DEEP, DEEP_OBJECT):
        r = site.api.post("/tickets/1/notes", content=body, headers=JSON)
        assert r.status_code == 400 and "nested deeper than 64" in r.text, r.text
        # Unauthenticated, and a content type that does not say JSON.
        r = httpx.post(f"{site.url}/api/v1/auth/token", content=body, timeout=30)
        assert r.status_code == 400, r.text
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            r = httpx.post(
                f"{site.url}/hooks/web/acme",
                content=body,
                headers={"content-type": content_type},
                timeout=30,
            )
            assert r.status_code == 400, r.text
    # Just inside the limit is parsed as usual (and refused for what it says).
    shallow = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    r = site.api.post("/tickets/1/notes", content=shallow, headers=JSON)
    assert r.status_code == 422 and "nested" not in r.text, r.text


def test_deep_but_signed_webhook_is_kept_as_a_failed_raw_event(site: Site) -> None:
    headers = {META_SIGNATURE_HEADER: meta_signature(META_SECRET, DEEP)}
    r = httpx.post(f"{site.url}/hooks/meta", content=DEEP, headers=headers, timeout=30)
    assert r.status_code == 400 and "nested deeper" in r.text
    with site.db.session() as s:
        stored = s.scalars(select(RawEvent).where(RawEvent.source == "hooks:meta")).all()
    assert [e.status for e in stored] == [str(RawEventStatus.FAILED)]
    # A raw NUL byte (PostgreSQL text cannot hold one): malformed, kept, 400.
    nul = b'{"object": "page", "entry": [\x00]}'
    headers = {META_SIGNATURE_HEADER: meta_signature(META_SECRET, nul)}
    assert (
        httpx.post(f"{site.url}/hooks/meta", content=nul, headers=headers, timeout=30).status_code
        == 400
    )
    with site.db.session() as s:
        assert len(s.scalars(select(RawEvent).where(RawEvent.source == "hooks:meta")).all()) == 2
    # Unsigned: refused on the signature, nothing stored.
    assert httpx.post(f"{site.url}/hooks/meta", content=DEEP, timeout=30).status_code in (401, 403)


def test_body_over_the_limit_is_413(db: Database) -> None:
    with serve(create_app(Settings(max_request_body_bytes=1000), db)) as url:
        r = httpx.post(f"{url}/api/v1/auth/token", content=b"x" * 1001, timeout=30)
        assert r.status_code == 413
        chunks = iter([b"{" * 10, b" " * 2000])  # no content-length: counted as it streams
        r = httpx.post(f"{url}/api/v1/auth/token", content=chunks, timeout=30)
        assert r.status_code == 413


@pytest.mark.parametrize(
    "cursor", ["null", "garbage", "W10", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgMV0"]
)
def test_cursor_that_this_api_did_not_return_is_422(site: Site, cursor: str) -> None:
    r = site.api.get("/tickets", params={"cursor": cursor})
    assert r.status_code == 422 and "cursor" in r.json()["error"]["reason"], r.text
    contact = site.api.get("/contacts/1/tickets", params={"cursor": cursor})
    assert contact.status_code == 422, contact.text


def test_cursor_with_an_id_past_bigint_is_422(site: Site) -> None:
    from socialdesk.store.db import utcnow
    from socialdesk.store.repos.tickets import encode_cursor

    r = site.api.get("/tickets", params={"cursor": encode_cursor(utcnow(), 2**63)})
    assert r.status_code == 422
    r = site.api.get("/tickets", params={"cursor": encode_cursor(utcnow(), 5)})
    assert r.status_code == 200


def test_null_on_a_patch_field_that_is_not_nullable_is_422(site: Site) -> None:
    target = {"channel": None, "priority": None, "first_response_minutes": 60}
    created = site.api.post("/sla/policies", json={"name": "p", "targets": [target]})
    assert created.status_code == 201, created.text
    url = f"/sla/policies/{created.json()['id']}"
    for field in ("warn_share", "name", "targets", "position", "enabled", "channels"):
        r = site.api.patch(url, json={field: None})
        assert r.status_code == 422 and "cannot be null" in r.text, (field, r.text)
    # calendar is nullable: null means around the clock.
    assert site.api.patch(url, json={"calendar": None}).status_code == 200
    assert site.api.patch(url, json={"warn_share": 0.5}).json()["warn_share"] == 0.5
    for body in ({"status": None}, {"handle": None}):
        r = site.api.patch("/channel-accounts/1", json=body)
        assert r.status_code == 422, r.text
    assert site.api.patch("/sla/settings", json={"social_cuts_line": None}).status_code == 422


def test_text_the_database_cannot_hold_is_422_not_500(site: Site) -> None:
    body = {"platform": "web", "handle": "nul\u0000here", "external_id": "nul-form"}
    r = site.api.post("/channel-accounts", json=body)
    # SQLite stores the character; PostgreSQL text cannot hold it.
    assert r.status_code == (201 if site.db.is_sqlite else 422), r.text


@pytest.mark.parametrize(
    ("body", "deeper"),
    [
        (b"[]", False),
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b'{"a": "' + b"[" * 500 + b'"}', False),  # brackets inside a string
        (b'["\\"' + b"[" * 100 + b'"]', False),  # an escaped quote does not end it
        (b"[{}]" * 1000, False),  # many, but never deep
        (DEEP_OBJECT, True),
    ],
)
def test_json_depth(body: bytes, deeper: bool) -> None:
    assert json_depth_exceeds(body) is deeper


@pytest.mark.parametrize(
    ("text", "low", "high", "expected"),
    [
        ("12", 0, 100, 12),
        (" 7 ", 0, 100, 7),
        ("-3", -5, 5, -3),
        ("101", 0, 100, None),
        ("²", 0, 100, None),  # str.isdigit() says yes; int() says no
        ("1" * 400, 0, DB_INT_MAX, None),
        ("", 0, 100, None),
        ("-", -5, 5, None),
        ("4.5", 0, 100, None),
    ],
)
def test_parse_int(text: str, low: int, high: int, expected: int | None) -> None:
    assert parse_int(text, low, high) == expected


def test_parse_id_bounds() -> None:
    assert parse_id(str(DB_INT_MAX)) == DB_INT_MAX
    assert parse_id(str(DB_INT_MAX + 1)) is None
    assert parse_id("0") is None

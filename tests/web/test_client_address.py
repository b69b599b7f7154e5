"""Whose address counts: X-Forwarded-For only from a configured trusted proxy (rightmost
untrusted hop), for the sign-in throttle and the web form's rate limit alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from socialdesk.actions.admin import create_channel_account, ensure_workspace
from socialdesk.auth.password_policy import password_problem
from socialdesk.auth.throttle import Limit, ThrottleState, after_failure, seconds_left
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.client_address import parse_networks, resolve_client
from socialdesk.web.serving import serve
from socialdesk.web.webform import RateLimiter

PROXIES = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.5", [], "203.0.113.5"),
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # not a proxy: header ignored
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["192.0.2.9, 198.51.100.1"], "198.51.100.1"),  # made-up left hop
        ("127.0.0.1", ["198.51.100.1, 10.2.3.4"], "198.51.100.1"),  # inner proxy skipped
        ("127.0.0.1", ["192.0.2.9", "198.51.100.1, 10.0.0.7"], "198.51.100.1"),
        ("127.0.0.1", ["10.0.0.1, 10.0.0.2"], "10.0.0.1"),  # only proxies: leftmost
        ("127.0.0.1", ["not-an-ip"], "not-an-ip"),
        ("::1", ["2001:db8::5"], "2001:db8::5"),
    ],
)
def test_resolve_client(peer: str, forwarded: list[str], client: str) -> None:
    assert resolve_client(peer, forwarded, PROXIES) == client


def test_a_bad_trusted_proxy_entry_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_networks("127.0.0.1, 10.0.0.300")
    assert parse_networks("") == ()


LIMIT = Limit(failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=10))
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        (None, T0, ThrottleState(1, T0, None)),
        (ThrottleState(1, T0, None), T0 + timedelta(minutes=1), ThrottleState(2, T0, None)),
        (
            ThrottleState(2, T0, None),
            T0 + timedelta(minutes=2),
            ThrottleState(3, T0, T0 + timedelta(minutes=12)),
        ),
        # The window ran out: counting starts again.
        (
            ThrottleState(2, T0, None),
            T0 + timedelta(minutes=16),
            ThrottleState(1, T0 + timedelta(minutes=16), None),
        ),
        # A served lock starts a new window, even inside the old one.
        (
            ThrottleState(3, T0, T0 + timedelta(minutes=1)),
            T0 + timedelta(minutes=2),
            ThrottleState(1, T0 + timedelta(minutes=2), None),
        ),
    ],
)
def test_after_failure(state: ThrottleState | None, now: datetime, expected: ThrottleState) -> None:
    assert after_failure(state, now, LIMIT) == expected


def test_seconds_left() -> None:
    assert seconds_left(None, T0) == 0
    assert seconds_left(T0, T0) == 0
    assert seconds_left(T0 + timedelta(milliseconds=10), T0) == 1
    assert seconds_left(T0 + timedelta(minutes=15), T0) == 900


@pytest.mark.parametrize(
    ("password", "refused_because"),
    [
        ("password", "top-10 common password"),
        ("12345678", "top-10 common password"),
        ("password123", "too easy to guess"),
        ("changeme", "too easy to guess"),
        ("short", "at least 8 characters"),
        ("x" * 1025, "at most 1024"),
        ("ada.lovelace1", "too easy to guess"),  # the user's own name
        ("correct horse battery", None),
        ("hunter2-not-it", None),
    ],
)
def test_password_policy(password: str, refused_because: str | None) -> None:
    problem = password_problem(password, ("ada.lovelace@example.com", "Ada Lovelace"))
    if refused_because is None:
        assert problem is None
    else:
        assert problem is not None and refused_because in problem


@pytest.fixture
def form_db(db: Database) -> Database:
    with db.write() as s:
        create_channel_account(
            s,
            None,
            workspace_id=ensure_workspace(s).id,
            platform=Platform.WEB,
            handle="Acme",
            external_id="contact",
        )
    return db


def _serve(db: Database, trusted: str) -> Iterator[str]:
    app = create_app(Settings(trusted_proxies=trusted), db)
    app.state.webform_rate_limiter = RateLimiter(limit=2, window=60)
    with serve(app) as url:
        yield url


FIELDS = {"name": "Ann", "email": "ann@example.org", "subject": "Hi", "message": "Kettle leaks."}


def _submit(url: str, forwarded_for: str) -> int:
    r = httpx.post(
        url + "/hooks/web/contact",
        json=FIELDS,
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )
    return r.status_code


def test_web_form_limit_ignores_forwarded_for_from_an_untrusted_peer(form_db: Database) -> None:
    for url in _serve(form_db, ""):
        codes = [_submit(url, f"198.51.100.{i}") for i in range(3)]
        assert codes == [200, 200, 429]


def test_web_form_limit_counts_the_client_behind_a_trusted_proxy(form_db: Database) -> None:
    for url in _serve(form_db, "127.0.0.1"):
        assert [_submit(url, "198.51.100.1") for _ in range(3)] == [200, 200, 429]
        # Another client behind the same proxy is not held back.
        assert _submit(url, "198.51.100.2") == 200
        # Prepending a made-up hop does not escape the limit.
        assert _submit(url, "192.0.2.50, 198.51.100.1") == 429

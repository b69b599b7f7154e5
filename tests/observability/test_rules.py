"""The pure parts of observability, table by table: who may read /metrics, what the
log redaction blanks, request ids, delivery latency, queue lag, worker fitness."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest

from socialdesk.config import Settings
from socialdesk.observability.gauges import lag_seconds
from socialdesk.observability.health import worker_problem
from socialdesk.observability.logs import (
    configure_logging,
    log_context,
    redact,
    remove_logging,
    request_id_from,
)
from socialdesk.observability.metrics import delivery_latency
from socialdesk.web.ops import metrics_refusal, parse_networks

LOOPBACK = parse_networks("127.0.0.1,::1")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("peer", "forwarded", "authorization", "token", "allowed", "expected"),
    [
        ("127.0.0.1", False, None, None, LOOPBACK, None),
        ("::1", False, None, None, LOOPBACK, None),
        ("10.1.2.3", False, None, None, LOOPBACK, 403),
        ("127.0.0.1", True, None, None, LOOPBACK, 403),  # through a proxy, no token
        (None, False, None, None, LOOPBACK, 403),
        ("not-an-address", False, None, None, LOOPBACK, 403),
        ("127.0.0.1", False, None, "s3cret", LOOPBACK, 401),
        ("127.0.0.1", False, "Bearer wrong", "s3cret", LOOPBACK, 401),
        ("127.0.0.1", False, "Basic s3cret", "s3cret", LOOPBACK, 401),
        ("127.0.0.1", False, "Bearer s3cret", "s3cret", LOOPBACK, None),
        ("127.0.0.1", True, "bearer s3cret", "s3cret", LOOPBACK, None),  # token: proxy ok
        ("10.1.2.3", False, "Bearer s3cret", "s3cret", LOOPBACK, 403),  # token, wrong net
        ("10.1.2.3", False, "Bearer s3cret", "s3cret", parse_networks("10.0.0.0/8"), None),
        ("10.1.2.3", False, None, None, parse_networks("0.0.0.0/0,::/0"), None),
    ],
)
def test_who_may_read_metrics(
    peer: str | None,
    forwarded: bool,
    authorization: str | None,
    token: str | None,
    allowed: list,  # type: ignore[type-arg]
    expected: int | None,
) -> None:
    refusal = metrics_refusal(peer, forwarded, authorization, token, allowed)
    assert (refusal[0] if refusal else None) == expected
    if refusal:
        assert "s3cret" not in refusal[1]


def test_a_bad_allow_list_is_refused_when_settings_are_read() -> None:
    with pytest.raises(ValueError, match="not an address or network: 'nonsense'"):
        Settings(metrics_allow="127.0.0.1, nonsense")
    assert len(parse_networks(Settings(metrics_allow="10.0.0.0/8, ::1").metrics_allow)) == 2


@pytest.mark.parametrize(
    ("line", "kept", "blanked"),
    [
        ("GET https://graph.example/me?access_token=EAAB123&fields=id", "fields=id", "EAAB123"),
        ("Authorization: Bearer abc.def-ghi", "Authorization", "abc.def-ghi"),
        ('{"password": "hunter2", "email": "a@b.c"}', "a@b.c", "hunter2"),
        ("{'refresh_token': 'rt-999', 'scope': 'x'}", "scope", "rt-999"),
        ("x-hub-signature-256: sha256=" + "ab12" * 16, "x-hub-signature-256", "ab12" * 16),
        ("sig sha256=583uAmerwtjpykYEAEm+CEIRm6dOywK4QKRr0ha/Pd4=", "sig", "583uAmer"),
        ("login password=pa55 for agent", "for agent", "pa55"),
        ('body {\\"app_secret\\": \\"zz-top\\"}', "body", "zz-top"),
    ],
)
def test_redaction_blanks_credentials_and_keeps_the_rest(
    line: str, kept: str, blanked: str
) -> None:
    cleaned = redact(line)
    assert blanked not in cleaned
    assert kept in cleaned
    assert "[redacted]" in cleaned


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("abc-123", True),
        ("7f9c2b1e-0d4a-4c39-9f1e-3b7d2a1c0e55", True),
        ("", False),
        (None, False),
        ("two\nlines", False),
        ("<script>", False),
        ("x" * 129, False),
    ],
)
def test_request_ids_are_taken_only_when_plain(header: str | None, kept: bool) -> None:
    made = request_id_from(header)
    assert (made == header) is kept
    assert 1 <= len(made) <= 128


@pytest.mark.parametrize(
    ("queued", "scheduled", "sent", "expected"),
    [
        (T0, None, T0 + timedelta(seconds=2), 2.0),
        (T0, (T0 + timedelta(hours=1)).isoformat(), T0 + timedelta(hours=1, seconds=3), 3.0),
        (T0, (T0 - timedelta(hours=1)).isoformat(), T0 + timedelta(seconds=5), 5.0),
        (None, None, T0, None),
        (None, T0.isoformat(), T0 + timedelta(seconds=1), 1.0),
        (T0, "not a time", T0 + timedelta(seconds=4), 4.0),
        (T0, None, T0 - timedelta(seconds=1), 0.0),  # clocks disagree: never negative
    ],
)
def test_delivery_latency_counts_from_queue_or_schedule(
    queued: datetime | None, scheduled: str | None, sent: datetime, expected: float | None
) -> None:
    assert delivery_latency(queued, scheduled, sent) == expected


@pytest.mark.parametrize(
    ("oldest", "expected"),
    [(None, 0.0), (T0, 0.0), (T0 - timedelta(seconds=90), 90.0), (T0 + timedelta(1), 0.0)],
)
def test_lag_is_the_age_of_the_oldest_waiting_item(
    oldest: datetime | None, expected: float
) -> None:
    assert lag_seconds(oldest, T0) == expected


@pytest.mark.parametrize(
    ("running", "since_ok", "interval", "problem"),
    [
        (True, 0.5, 1.0, None),
        (True, None, 1.0, None),
        (False, 0.5, 1.0, "not running"),
        (True, 119.0, 1.0, None),
        (True, 121.0, 1.0, "has not finished a pass"),
        (True, 170.0, 60.0, None),  # the SLA scan: three intervals
        (True, 181.0, 60.0, "has not finished a pass"),
    ],
)
def test_worker_fitness(
    running: bool, since_ok: float | None, interval: float, problem: str | None
) -> None:
    found = worker_problem("delivery", running, since_ok, interval)
    assert (found is None) is (problem is None)
    if problem is not None:
        assert found is not None and problem in found and "delivery" in found


def test_json_lines_carry_the_ids_in_scope_and_null_outside() -> None:
    stream = StringIO()
    handler = configure_logging("json", "INFO", stream)
    try:
        log = logging.getLogger("socialdesk.test")
        with log_context(request_id="r-1", ticket_id=7):
            log.info("inside with token=abc123")
        log.info("outside")
    finally:
        remove_logging(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["request_id"] == "r-1" and inside["ticket_id"] == 7
    assert inside["account_id"] is None and inside["level"] == "INFO"
    assert inside["logger"] == "socialdesk.test" and "abc123" not in inside["message"]
    assert outside["request_id"] is None and outside["ticket_id"] is None
    assert outside["message"] == "outside" and outside["time"].startswith("20")

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from socialdesk.domain.business_hours import BusinessCalendar
from socialdesk.domain.sla_clock import (
    ClockEvent,
    ClockEventKind,
    ClockRow,
    ClockStatus,
    DueNotice,
    NoticeKind,
    SlaTarget,
    evaluate_clock,
    scan_due,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)

BERLIN = BusinessCalendar.office_hours("Europe/Berlin")
LUNCH = BusinessCalendar.weekly(
    "Europe/Berlin", {d: [(time(9), time(12)), (time(13), time(17))] for d in range(5)}
)
ALWAYS_BERLIN = BusinessCalendar.always("Europe/Berlin")
NY = BusinessCalendar.office_hours("America/New_York", country="US")

# Monday 2024-06-10 .. Sunday 2024-06-16, Berlin summer time.
DAYS = {"mon": 10, "tue": 11, "wed": 12, "thu": 13, "fri": 14, "sat": 15, "sun": 16, "mon2": 17}


def b(when: str) -> datetime:
    """'tue 10:30' -> that wall-clock time in Berlin in the week of 2024-06-10, as UTC."""
    day, clock = when.split()
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(2024, 6, DAYS[day], hour - 2, minute, tzinfo=UTC)


def start(when: str, hours: float, target: SlaTarget = SlaTarget.RESOLUTION) -> ClockEvent:
    return ClockEvent.start(b(when), target, timedelta(hours=hours))


def pause(when: str) -> ClockEvent:
    return ClockEvent.pause(b(when))


def resume(when: str) -> ClockEvent:
    return ClockEvent.resume(b(when))


def fulfil(when: str) -> ClockEvent:
    return ClockEvent.fulfil(b(when))


def expect(
    status: ClockStatus,
    elapsed: timedelta,
    due: str | None,
    warning: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"status": status, "elapsed": elapsed}
    fields["due_at"] = b(due) if due else None
    if warning is not None:
        fields["warning_at"] = b(warning) if warning != "-" else None
    for name, value in extra.items():
        fields[name] = b(value) if isinstance(value, str) else value
    return fields


RUNNING = ClockStatus.RUNNING
PAUSED = ClockStatus.PAUSED
FULFILLED = ClockStatus.FULFILLED
BREACHED_RUNNING = ClockStatus.BREACHED_RUNNING
BREACHED_FULFILLED = ClockStatus.BREACHED_FULFILLED


@pytest.mark.parametrize(
    ("events", "now", "expected"),
    [
        pytest.param(
            [start("mon 09:00", 4)],
            "mon 10:00",
            expect(RUNNING, H, "mon 13:00", "mon 12:00", warned=False, breached=False),
            id="running",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 10:00"), resume("mon 11:00")],
            "mon 12:00",
            expect(RUNNING, 2 * H, "mon 14:00", "mon 13:00"),
            id="pause-resume-in-hours-shifts-due",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 10:00")],
            "mon 15:00",
            expect(PAUSED, H, None, "-", paused_since="mon 10:00", remaining=3 * H),
            id="paused-has-no-deadline",
        ),
        pytest.param(
            [start("mon 16:00", 4), pause("mon 18:00"), resume("tue 08:00")],
            "tue 10:00",
            expect(RUNNING, 2 * H, "tue 12:00", "tue 11:00"),
            id="pause-out-of-hours-changes-nothing",
        ),
        pytest.param(
            [start("mon 09:00", 8), pause("mon 16:00"), resume("tue 10:00")],
            "tue 11:00",
            expect(RUNNING, 8 * H, "tue 11:00", breached=False),
            id="pause-into-next-morning-due-exactly-now",
        ),
        pytest.param(
            [start("mon 09:00", 8), pause("mon 16:00"), resume("tue 10:00")],
            "tue 11:01",
            expect(BREACHED_RUNNING, 8 * H + M, "tue 11:00", breached_at="tue 11:00"),
            id="pause-into-next-morning-breached",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 10:00"), resume("tue 09:00")],
            "tue 12:00",
            expect(RUNNING, 4 * H, "tue 12:00"),
            id="pause-overnight-moves-due-to-next-day",
        ),
        pytest.param(
            [start("fri 16:00", 2)],
            "mon2 10:00",
            expect(RUNNING, 2 * H, "mon2 10:00", "mon2 09:30"),
            id="breach-over-weekend-not-yet",
        ),
        pytest.param(
            [ClockEvent.start(b("fri 16:00") + timedelta(0), SlaTarget.FIRST_RESPONSE, 2 * H)],
            "mon2 10:01",
            expect(BREACHED_RUNNING, 2 * H + M, "mon2 10:00", breached_at="mon2 10:00"),
            id="breach-over-weekend",
        ),
        pytest.param(
            [start("mon 09:00", 4), fulfil("mon 12:30")],
            "tue 09:00",
            expect(FULFILLED, 3.5 * H, "mon 13:00", "mon 12:00", warned=True, breached=False),
            id="fulfilled-in-time",
        ),
        pytest.param(
            [start("mon 09:00", 4), fulfil("mon 13:00")],
            "tue 09:00",
            expect(FULFILLED, 4 * H, "mon 13:00", fulfilled_at="mon 13:00"),
            id="fulfilled-exactly-at-due",
        ),
        pytest.param(
            [start("mon 09:00", 4), fulfil("mon 14:00")],
            "tue 09:00",
            expect(BREACHED_FULFILLED, 5 * H, "mon 13:00", breached_at="mon 13:00"),
            id="fulfilled-late",
        ),
        pytest.param(
            [start("mon 15:00", 2), fulfil("mon 18:00")],
            "tue 09:00",
            expect(BREACHED_FULFILLED, 2 * H, "mon 17:00", breached_at="mon 17:00"),
            id="due-at-closing-time-fulfilled-in-the-evening",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 13:00"), fulfil("tue 10:00")],
            "tue 12:00",
            expect(FULFILLED, 4 * H, None, breached=False, fulfilled_at="tue 10:00"),
            id="paused-exactly-at-due-then-fulfilled",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 14:00")],
            "mon 16:00",
            expect(PAUSED, 5 * H, "mon 13:00", breached=True, breached_at="mon 13:00"),
            id="breached-then-paused",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 10:00"), fulfil("mon 15:00")],
            "tue 09:00",
            expect(FULFILLED, H, None, "-", fulfilled_at="mon 15:00"),
            id="fulfilled-while-paused",
        ),
        pytest.param(
            [
                resume("mon 11:00"),
                pause("mon 10:00"),
                start("mon 09:30", 1),
                start("mon 09:00", 4),
                pause("mon 10:00"),
                pause("mon 10:30"),
                resume("mon 11:00"),
                resume("mon 11:30"),
                fulfil("mon 12:00"),
                fulfil("mon 11:45"),
            ],
            "mon 11:50",
            expect(FULFILLED, timedelta(hours=1, minutes=45), "mon 14:00", started_at="mon 09:00"),
            id="duplicates-and-out-of-order",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 11:00")],
            "mon 10:00",
            expect(RUNNING, H, "mon 13:00"),
            id="events-after-now-ignored",
        ),
        pytest.param(
            [pause("mon 08:00"), fulfil("mon 08:30"), start("mon 09:00", 4)],
            "mon 10:00",
            expect(RUNNING, H, "mon 13:00"),
            id="events-before-start-ignored",
        ),
        pytest.param(
            [start("mon 09:00", 4), fulfil("mon 10:00"), resume("mon 11:00"), pause("mon 12:00")],
            "mon 15:00",
            expect(FULFILLED, H, "mon 13:00"),
            id="events-after-fulfil-ignored",
        ),
        pytest.param(
            [start("mon 09:00", 4), resume("mon 10:00"), pause("mon 10:00")],
            "mon 11:00",
            expect(RUNNING, 2 * H, "mon 13:00"),
            id="pause-and-resume-at-same-instant-keep-running",
        ),
        pytest.param(
            [start("mon 09:00", 4), pause("mon 09:00")],
            "mon 12:00",
            expect(PAUSED, timedelta(0), None),
            id="paused-at-start",
        ),
        pytest.param(
            [start("mon 09:00", 8)],
            "mon 15:00",
            expect(RUNNING, 6 * H, "mon 17:00", "mon 15:00", warned=False),
            id="warning-at-75-percent-not-yet",
        ),
        pytest.param(
            [start("mon 09:00", 8)],
            "mon 15:01",
            expect(RUNNING, 6 * H + M, "mon 17:00", "mon 15:00", warned=True),
            id="warning-at-75-percent-passed",
        ),
        pytest.param(
            [start("mon 22:00", 1)],
            "tue 09:50",
            expect(RUNNING, 50 * M, "tue 10:00", "tue 09:45", warned=True),
            id="overnight-post",
        ),
    ],
)
def test_evaluate_clock(events: list[ClockEvent], now: str, expected: dict[str, Any]) -> None:
    state = evaluate_clock(BERLIN, events, b(now))
    actual = {name: getattr(state, name) for name in expected}
    assert actual == expected
    assert evaluate_clock(BERLIN, list(reversed(events)), b(now)) == state


@pytest.mark.parametrize(
    ("cal", "share", "target", "warning", "due"),
    [
        # 75% of 4 h on a day with a lunch break: 3 h in lands exactly at 12:00.
        (LUNCH, 0.75, 4 * H, "mon 12:00", "mon 14:00"),
        (LUNCH, 0.5, 4 * H, "mon 11:00", "mon 14:00"),
        (BERLIN, 0.75, 4 * H, "mon 12:00", "mon 13:00"),
        (BERLIN, 0.75, 16 * H, "tue 13:00", "tue 17:00"),
        (BERLIN, 1.0, 4 * H, "mon 13:00", "mon 13:00"),
        (ALWAYS_BERLIN, 0.75, 4 * H, "mon 12:00", "mon 13:00"),
    ],
)
def test_warning_share(
    cal: BusinessCalendar, share: float, target: timedelta, warning: str, due: str
) -> None:
    events = [ClockEvent.start(b("mon 09:00"), SlaTarget.FIRST_RESPONSE, target)]
    state = evaluate_clock(cal, events, b("mon 09:30"), warn_at_share=share)
    assert (state.warning_at, state.due_at) == (b(warning), b(due))


@pytest.mark.parametrize(
    ("cal", "start_at", "target", "due"),
    [
        # US holiday in the policy zone.
        (NY, "2024-07-03T16:00-04:00", 2 * H, "2024-07-05T10:00-04:00"),
        # 24/7 across spring-forward and fall-back in Berlin: real hours.
        (ALWAYS_BERLIN, "2024-03-31T01:30+01:00", 2 * H, "2024-03-31T04:30+02:00"),
        (ALWAYS_BERLIN, "2024-10-27T01:30+02:00", 2 * H, "2024-10-27T02:30+01:00"),
        # Office hours on the Friday before spring-forward in New York.
        (NY, "2024-03-08T16:00-05:00", 2 * H, "2024-03-11T10:00-04:00"),
    ],
)
def test_due_in_policy_zone(
    cal: BusinessCalendar, start_at: str, target: timedelta, due: str
) -> None:
    begin = datetime.fromisoformat(start_at)
    state = evaluate_clock(cal, [ClockEvent.start(begin, SlaTarget.RESOLUTION, target)], begin)
    assert state.due_at == datetime.fromisoformat(due)
    assert state.status is ClockStatus.RUNNING


def test_not_started() -> None:
    state = evaluate_clock(BERLIN, [start("tue 09:00", 4), pause("mon 10:00")], b("mon 12:00"))
    assert state.status is ClockStatus.NOT_STARTED
    assert state.elapsed == timedelta(0)
    assert (state.due_at, state.warning_at, state.started_at, state.target) == (None,) * 4


@pytest.mark.parametrize(
    "call",
    [
        lambda: ClockEvent.pause(datetime(2024, 6, 10, 9)),
        lambda: ClockEvent(ClockEventKind.START, b("mon 09:00")),
        lambda: ClockEvent.start(b("mon 09:00"), SlaTarget.RESOLUTION, -H),
        lambda: ClockEvent(ClockEventKind.PAUSE, b("mon 09:00"), duration=H),
        lambda: ClockEvent("stop", b("mon 09:00")),  # type: ignore[arg-type]
        lambda: evaluate_clock(BERLIN, [], datetime(2024, 6, 10, 9)),
        lambda: evaluate_clock(BERLIN, [], b("mon 09:00"), warn_at_share=0),
        lambda: evaluate_clock(BERLIN, [], b("mon 09:00"), warn_at_share=1.5),
        lambda: evaluate_clock(
            BERLIN,
            [start("mon 09:00", 4), start("mon 09:00", 4, SlaTarget.FIRST_RESPONSE)],
            b("mon 10:00"),
        ),
        lambda: scan_due([], datetime(2024, 6, 10, 9)),
    ],
)
def test_invalid_input_raises_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


NOW = datetime(2024, 6, 10, 12, tzinfo=UTC)
PAST = NOW - M
FUTURE = NOW + M


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (ClockRow(1, FUTURE, FUTURE + H, False, False), None),
        (ClockRow(2, PAST, FUTURE, False, False), (NoticeKind.WARNING, PAST)),
        (ClockRow(3, PAST, FUTURE, True, False), None),  # already warned
        (ClockRow(4, PAST - H, PAST, False, False), (NoticeKind.BREACH, PAST)),  # skips warning
        (ClockRow(5, PAST - H, PAST, True, False), (NoticeKind.BREACH, PAST)),
        (ClockRow(6, PAST - H, PAST, True, True), None),  # already breached
        (ClockRow(7, PAST - H, PAST, False, True), None),
        (ClockRow(8, None, None, False, False), None),  # paused or fulfilled
        (ClockRow(9, NOW, NOW, False, False), None),  # fires strictly after the instant
        (ClockRow("uuid-10", PAST, None, False, False), (NoticeKind.WARNING, PAST)),
    ],
)
def test_scan_due(row: ClockRow, expected: tuple[NoticeKind, datetime] | None) -> None:
    notices = scan_due([row], NOW)
    assert notices == ([] if expected is None else [DueNotice(row.clock_id, *expected)])


def test_scan_due_is_idempotent_once_rows_are_marked() -> None:
    rows = [ClockRow(n, PAST - H, PAST if n % 2 else FUTURE, False, False) for n in range(10)]
    first = scan_due(rows, NOW)
    assert {n.kind for n in first} == {NoticeKind.WARNING, NoticeKind.BREACH}
    fired = {n.clock_id: n.kind for n in first}
    marked = [
        row._replace(
            warned=True,
            breached=row.breached or fired.get(row.clock_id) is NoticeKind.BREACH,
        )
        for row in rows
    ]
    assert scan_due(marked, NOW) == []


def test_scan_due_takes_plain_tuples_at_scale() -> None:
    # A database scan hands over bare row tuples; 200,000 of them is the design load.
    rows = [
        (n, NOW - (n % 7) * M, NOW + (3 - n % 7) * M, n % 5 == 0, n % 11 == 0)
        for n in range(200_000)
    ]
    notices = scan_due(rows, NOW)  # type: ignore[arg-type]
    assert len(notices) == sum(
        1
        for _, warning_at, due_at, warned, breached in rows
        if not breached and (due_at < NOW or (not warned and warning_at < NOW))
    )


def test_state_from_scan_round_trip() -> None:
    # The values a caller would persist after evaluating: a scan before the warning time
    # reports nothing, a scan after the due time reports the breach.
    state = evaluate_clock(BERLIN, [start("mon 09:00", 4)], b("mon 09:00"))
    row = ClockRow("t1", state.warning_at, state.due_at, False, False)
    assert scan_due([row], b("mon 11:59")) == []
    assert scan_due([row], b("mon 12:01")) == [DueNotice("t1", NoticeKind.WARNING, b("mon 12:00"))]
    assert scan_due([row], b("mon 13:01")) == [DueNotice("t1", NoticeKind.BREACH, b("mon 13:00"))]

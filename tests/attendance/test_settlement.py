"""Rules 1 and 2: settling a member's day, around midnight, month ends and leap days."""

from __future__ import annotations

import asyncio
import datetime as dt

from models import DailyAttendance, DayState, Direction
from services import attendance
from services.attendance import settle, settle_closed_days, settle_days
from services.attendance.settlement import _write_settled
from tests.attendance.helpers import at, punch
from tests.factories import make_member, make_project

D = dt.date(2028, 2, 29)  # a leap day
AFTER = dt.date(2028, 3, 10)  # "today" for these tests: every day above is closed


def test_settle_pure_rules() -> None:
    """Normal needs an in before an out; broken patterns are abnormal; today is pending."""
    i, o = at(D, 8), at(D, 17, 30)
    assert settle([(i, "in"), (o, "out")], D, AFTER)[0] == DayState.NORMAL
    assert settle([(i, "in"), (o, "out")], D, AFTER)[3] == 9.5 * 3600
    assert settle([(i, "in")], D, AFTER)[0] == DayState.ABNORMAL
    assert settle([(o, "out")], D, AFTER)[0] == DayState.ABNORMAL
    assert settle([(o, "in"), (i, "out")], D, AFTER)[:4] == (DayState.ABNORMAL, o, i, 0)
    assert settle([(i, "in"), (o, "out")], D, D) == (DayState.TODAY, i, o, 0, 2)
    assert settle([], D, AFTER)[0] == DayState.ABSENT


def test_settle_first_in_last_out_out_of_order_and_duplicates() -> None:
    """Order of arrival and repeats do not matter: first in, last out."""
    punches = [
        (at(D, 17), "out"),
        (at(D, 7, 50), "in"),
        (at(D, 12), "out"),
        (at(D, 8), "in"),
        (at(D, 17), "out"),
        (at(D, 7, 50), "in"),
    ]
    state, first_in, last_out, seconds, n = settle(punches, D, AFTER)
    assert (state, first_in, last_out, seconds, n) == (
        DayState.NORMAL,
        at(D, 7, 50),
        at(D, 17),
        9 * 3600 + 600,
        6,
    )


async def test_midnight_splits_days_in_project_time(database: None) -> None:
    """23:59:59 belongs to the day, 00:00:00 to the next (Asia/Shanghai, stored as UTC)."""
    world = await make_project()
    m = await make_member(world)
    feb28 = dt.date(2028, 2, 28)
    await punch(m, at(feb28, 8), Direction.IN)
    await punch(m, at(feb28, 23, 59, 59), Direction.OUT)
    await punch(m, at(D, 0, 0, 0), Direction.OUT)  # night shift: out after midnight
    await punch(m, at(dt.date(2028, 3, 1), 0, 0, 1), Direction.IN)
    await settle_days(
        world.project.id, [(m.id, feb28), (m.id, D), (m.id, dt.date(2028, 3, 1))], AFTER
    )
    rows = {r.day: r for r in await DailyAttendance.filter(member_id=m.id)}
    assert rows[feb28].state == DayState.NORMAL
    assert rows[feb28].duration_seconds == 15 * 3600 + 59 * 60 + 59
    assert rows[D].state == DayState.ABNORMAL and rows[D].duration_seconds == 0
    assert rows[dt.date(2028, 3, 1)].state == DayState.ABNORMAL


async def test_only_accepted_punches_count(database: None) -> None:
    """Rejected punches (no liveness, red contract) never settle a day."""
    world = await make_project()
    m = await make_member(world)
    await punch(m, at(D, 8), Direction.IN)
    await punch(m, at(D, 18), Direction.OUT, accepted=False, reason="no_liveness")
    await settle_days(world.project.id, [(m.id, D)], AFTER)
    row = await DailyAttendance.get(member_id=m.id, day=D)
    assert row.state == DayState.ABNORMAL and row.punch_count == 1
    m2 = await make_member(world)
    await punch(m2, at(D, 8), Direction.IN, accepted=False, reason="contract_red")
    assert await settle_days(world.project.id, [(m2.id, D)], AFTER) == 0
    assert not await DailyAttendance.filter(member_id=m2.id).exists()


async def test_late_punch_resettles_past_day(database: None) -> None:
    """A handset's punch arriving days later turns an abnormal day normal."""
    world = await make_project()
    m = await make_member(world)
    day = dt.date(2028, 1, 31)  # month end
    await punch(m, at(day, 7, 30), Direction.IN)
    await settle_days(world.project.id, [(m.id, day)], AFTER)
    assert (await DailyAttendance.get(member_id=m.id, day=day)).state == DayState.ABNORMAL
    await punch(m, at(day, 18), Direction.OUT)  # uploaded late, out of order
    await punch(m, at(day, 7, 0), Direction.IN)
    await settle_days(world.project.id, [(m.id, day)], AFTER)
    row = await DailyAttendance.get(member_id=m.id, day=day)
    assert row.state == DayState.NORMAL and row.duration_seconds == 11 * 3600
    assert row.first_in == at(day, 7) and row.punch_count == 3


async def test_today_pending_then_closed_by_sweep(database: None) -> None:
    """Today is grey with no duration; after 24:00 the sweep settles it."""
    world = await make_project()
    m = await make_member(world)
    await punch(m, at(D, 8), Direction.IN)
    await punch(m, at(D, 17), Direction.OUT)
    await settle_days(world.project.id, [(m.id, D)], today=D)
    row = await DailyAttendance.get(member_id=m.id, day=D)
    assert row.state == DayState.TODAY and row.duration_seconds == 0
    assert await settle_closed_days(today=dt.date(2028, 3, 1)) >= 1
    row = await DailyAttendance.get(member_id=m.id, day=D)
    assert row.state == DayState.NORMAL and row.duration_seconds == 9 * 3600


async def test_stale_settlement_loses(database: None) -> None:
    """A settlement from an older read (fewer punches) never overwrites a newer one."""
    world = await make_project()
    m = await make_member(world)
    i = await punch(m, at(D, 8), Direction.IN)
    await punch(m, at(D, 17), Direction.OUT)
    await settle_days(world.project.id, [(m.id, D)], AFTER)
    # an ingest that read only the in-punch writes late
    await _write_settled(world.project.id, {(m.id, D): [(i.time, "in")]}, [(m.id, D)], AFTER)
    row = await DailyAttendance.get(member_id=m.id, day=D)
    assert row.state == DayState.NORMAL and row.punch_count == 2
    # an ingest that still thought the day open never reopens a closed day
    await _write_settled(
        world.project.id, {(m.id, D): [(i.time, "in"), (at(D, 17), "out")]}, [(m.id, D)], today=D
    )
    assert (await DailyAttendance.get(member_id=m.id, day=D)).state == DayState.NORMAL


async def test_concurrent_settlements_converge(database: None) -> None:
    """Many racing settlements of the same day end in the full settlement."""
    world = await make_project()
    m = await make_member(world)
    day = dt.date(2027, 12, 31)  # year end
    await punch(m, at(day, 8), Direction.IN)
    tasks = [settle_days(world.project.id, [(m.id, day)], AFTER) for _ in range(5)]
    await punch(m, at(day, 18), Direction.OUT)
    tasks += [settle_days(world.project.id, [(m.id, day)], AFTER) for _ in range(5)]
    await asyncio.gather(*tasks)
    row = await DailyAttendance.get(member_id=m.id, day=day)
    assert row.state == DayState.NORMAL and row.punch_count == 2


async def test_settle_range_matches_settle_days(database: None) -> None:
    """The month scan gives the same rows as per-day settlement."""
    world = await make_project()
    m = await make_member(world)
    for d in (1, 15, 29):
        day = dt.date(2028, 2, d)
        await punch(m, at(day, 8), Direction.IN)
        await punch(m, at(day, 16), Direction.OUT)
    n = await attendance.settle_range(
        world.project.id, dt.date(2028, 2, 1), dt.date(2028, 2, 29), AFTER
    )
    assert n == 3
    rows = await DailyAttendance.filter(member_id=m.id).order_by("day")
    assert [r.day.day for r in rows] == [1, 15, 29]
    assert all(r.state == DayState.NORMAL and r.duration_seconds == 8 * 3600 for r in rows)


def test_month_bounds_leap_years() -> None:
    """February has 29 days in 2028, 28 in 2027; bad months are refused."""
    assert attendance.month_bounds("2028-02")[3] == dt.date(2028, 2, 29)
    assert attendance.month_bounds("2027-02")[3] == dt.date(2027, 2, 28)
    for bad in ("2028-13", "2028/02", "", "28-02"):
        try:
            attendance.month_bounds(bad)
        except Exception as exc:  # noqa: BLE001
            assert getattr(exc, "field", None) == "month"
        else:
            raise AssertionError(bad)

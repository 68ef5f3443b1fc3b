"""Rule 1 on the database side: a day whose last out comes before its first in is abnormal with
no duration, on every settlement path (SQLite's one-hop settle and PostgreSQL's one-statement
``_PG_SETTLE``, taken by ``settle_days`` and by the pending-settlement sweep alike)."""

from __future__ import annotations

import datetime as dt

from models import DailyAttendance, DayState, Direction
from models.settlement import PendingSettlement
from services import attendance, localtime
from services.attendance import settle_days
from tests.attendance.helpers import at, punch
from tests.factories import make_member, make_project

DAY = dt.date(2028, 4, 12)
AFTER = dt.date(2028, 4, 20)


async def test_out_before_in_is_abnormal_with_no_duration(database: None) -> None:
    world = await make_project()
    backwards = await make_member(world)  # out 08:00, in 17:00
    await punch(backwards, at(DAY, 8), Direction.OUT)
    await punch(backwards, at(DAY, 17), Direction.IN)
    mixed = await make_member(world)  # in 07:00 out 06:30 in 09:00: first in 07:00 > last out
    await punch(mixed, at(DAY, 7), Direction.IN)
    await punch(mixed, at(DAY, 6, 30), Direction.OUT)
    await punch(mixed, at(DAY, 9), Direction.IN)
    good = await make_member(world)  # the control: in 08:00, out 17:30
    await punch(good, at(DAY, 8), Direction.IN)
    await punch(good, at(DAY, 17, 30), Direction.OUT)
    assert (
        await settle_days(
            world.project.id, [(backwards.id, DAY), (mixed.id, DAY), (good.id, DAY)], AFTER
        )
        == 3
    )
    rows = {r.member_id: r for r in await DailyAttendance.filter(day=DAY, project=world.project)}  # type: ignore[attr-defined]
    row = rows[backwards.id]
    assert (row.state, row.duration_seconds, row.punch_count) == (DayState.ABNORMAL, 0, 2)
    assert (row.first_in, row.last_out) == (at(DAY, 17), at(DAY, 8))
    row = rows[mixed.id]
    assert (row.state, row.duration_seconds, row.punch_count) == (DayState.ABNORMAL, 0, 3)
    assert (row.first_in, row.last_out) == (at(DAY, 7), at(DAY, 6, 30))
    row = rows[good.id]
    assert (row.state, row.duration_seconds) == (DayState.NORMAL, 9 * 3600 + 1800)


async def test_pending_sweep_keeps_out_before_in_abnormal(database: None) -> None:
    """The same day settled by the sweep of pending marks (what the device ingest leaves)."""
    world = await make_project()
    m = await make_member(world)
    day = localtime.today(attendance.zone(None)) - dt.timedelta(days=2)
    await punch(m, at(day, 8), Direction.OUT)
    await punch(m, at(day, 17), Direction.IN)
    await PendingSettlement.create(project_id=world.project.id, member_id=m.id, day=day)
    assert await attendance.settle_pending() >= 1
    row = await DailyAttendance.get(member_id=m.id, day=day)
    assert (row.state, row.duration_seconds, row.punch_count) == (DayState.ABNORMAL, 0, 2)

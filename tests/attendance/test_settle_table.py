"""Every case of ``settle_cases.CASES`` through every settlement path of the engine the suite runs
on (SQLite locally, PostgreSQL in CI's second pass):

- ``python``: the pure rule, ``settle()``;
- ``settle_days``: SQLite reads the punches and applies ``settle()``; PostgreSQL runs
  ``_PG_SETTLE``, the rule written again in SQL;
- ``pending``: the marks the punch pipeline leaves, drained by ``settle_pending`` (the same two
  copies, inside the claim's transaction);
- ``drain`` (PostgreSQL): the same marks through the drain's one-statement pass (``_PG_DRAIN``:
  claim, settle, delete in one statement), taken when the drain knows the project's zone;
- ``settle_range``: a whole-range scan settled by ``settle()`` on both engines.

A late batch (``|`` in a case) is stored and settled after the earlier ones, as punches from a
handset that was offline arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from tortoise import connections

from models import DailyAttendance, DayState, Direction, Project
from models.settlement import PendingSettlement
from services import attendance
from services.attendance import pending
from services.attendance.clock import project_zone
from tests.attendance.helpers import punch
from tests.attendance.settle_cases import ABSENT, CASES, Expected, SettleCase
from tests.factories import make_member, make_project

PATHS = ("settle_days", "pending", "drain", "settle_range")


def _as_expected(case: SettleCase, result: tuple) -> Expected:
    """A result (state, first in, last out, seconds, count) with moments as the case writes them."""
    state, first_in, last_out, seconds, count = result

    def text(moment: dt.datetime | None) -> str | None:
        if moment is None:
            return None
        local = moment.astimezone(case.tz)
        return local.strftime("%Y-%m-%d %H:%M" + (":%S" if local.second else ""))

    return (DayState(state), text(first_in), text(last_out), seconds, count)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_python_rule(case: SettleCase) -> None:
    """``settle()`` on each expected day's accepted punches, all batches in arrival order."""
    punches = [p for batch in case.batches() for p in batch if p.accepted]
    for day, expected in case.expected().items():
        mine = [
            (p.time, p.direction) for p in punches if attendance.local_day(p.time, case.tz) == day
        ]
        got = _as_expected(case, attendance.settle(mine, day, case.today))
        assert got == expected, f"{case.name} {day}"


async def _settle(path: str, project_id: int, pairs: set[tuple[int, dt.date]]) -> None:
    """Settle these member-days through one path (today: the engine's clock, project zone)."""
    if path == "settle_days":
        await attendance.settle_days(project_id, pairs)
    elif path == "pending":
        for member_id, day in sorted(pairs):
            await PendingSettlement.create(project_id=project_id, member_id=member_id, day=day)
        await attendance.settle_pending()
        assert not await PendingSettlement.filter(project_id=project_id).exists()
    elif path == "drain":
        for member_id, day in sorted(pairs):
            await PendingSettlement.create(project_id=project_id, member_id=member_id, day=day)
        zones = {project_id: await project_zone(project_id)}
        # (it may claim other tests' ready marks too: those it leaves to the general pass)
        _, _, out_of_range, _ = await pending._pg_drain_pass(100, zones)
        assert out_of_range == 0
        assert not await PendingSettlement.filter(project_id=project_id).exists()
    else:
        days = [d for _, d in pairs]
        await attendance.settle_range(project_id, min(days), max(days))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_database_paths(
    database: None, clock: Callable[[dt.datetime], None], case: SettleCase, path: str
) -> None:
    """The stored day rows of each path equal the table (an absent day: no row)."""
    if path == "drain" and connections.get("default").capabilities.dialect != "postgres":
        pytest.skip("the one-statement drain is PostgreSQL's (SQLite: the pending path)")
    clock(case.now_moment)
    world = await make_project()
    await Project.filter(id=world.project.id).update(timezone=case.zone)
    member = await make_member(world, entry_date=dt.date(2027, 1, 1))
    expected = case.expected()
    for batch in case.batches():
        for p in batch:
            await punch(
                member,
                p.time,
                Direction(p.direction),
                accepted=p.accepted,
                tz=case.tz,
            )
        touched = {attendance.local_day(p.time, case.tz) for p in batch}
        await _settle(path, world.project.id, {(member.id, d) for d in touched | set(expected)})
    rows = {r.day: r for r in await DailyAttendance.filter(member_id=member.id)}
    for day, want in expected.items():
        row = rows.get(day)
        got = (
            ABSENT
            if row is None
            else _as_expected(
                case,
                (row.state, row.first_in, row.last_out, row.duration_seconds, row.punch_count),
            )
        )
        assert got == want, f"{case.name} {day} via {path}"

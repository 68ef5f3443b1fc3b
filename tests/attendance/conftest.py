"""A small project with data for the statistics tests (unique per call)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from models import DailyAttendance, DayState, Direction, ParticipatingUnit, Post, Team, UnitRole
from services.attendance import settle_days
from tests.attendance.helpers import DEFAULT_TZ, at, punch
from tests.factories import make_enterprise, make_member, make_person, make_project

FEB = dt.date(2028, 2, 1)
LEAP = dt.date(2028, 2, 29)
AFTER = dt.date(2028, 3, 10)


@dataclass
class StatsWorld:
    world: Any
    sub: ParticipatingUnit
    team_b: Team
    m1: Any
    m1_id_number: str
    m1_phone: str
    m2: Any
    m3: Any
    m4: Any


async def stats_world() -> StatsWorld:
    """GC labour m1 (normal on the leap day, abnormal on the 1st), GC manager m2 (pending day
    left open), subcontractor labour m3 (left, team B), GC labour m4 (absent all month)."""
    world = await make_project()
    sub_ent = await make_enterprise()
    world.enterprises["sub"] = sub_ent
    sub = await ParticipatingUnit.create(
        project=world.project, enterprise=sub_ent, role=UnitRole.LABOUR_SUB, entry_date=FEB
    )
    team_b = await Team.create(project=world.project, unit=sub, name="B班组")
    p1, id1, ph1 = await make_person(name="张三丰")
    m1 = await make_member(world, person=p1, entry_date=FEB)
    m2 = await make_member(
        world, person_type="management", post=Post.PROJECT_MANAGER, entry_date=FEB
    )
    m3 = await make_member(world, unit=sub, entry_date=FEB, work_status="left")
    m3.team = team_b
    await m3.save()
    m4 = await make_member(world, entry_date=FEB)
    await punch(m1, at(LEAP, 8), Direction.IN)
    await punch(m1, at(LEAP, 17), Direction.OUT)
    await punch(m1, at(FEB, 8), Direction.IN)
    await punch(m2, at(dt.date(2028, 2, 10), 8), Direction.IN)
    await punch(m2, at(dt.date(2028, 2, 10), 18), Direction.OUT)
    await punch(m3, at(dt.date(2028, 2, 3), 9), Direction.IN)
    await punch(m3, at(dt.date(2028, 2, 3), 12, 30), Direction.OUT)
    pid = world.project.id
    await settle_days(pid, [(m1.id, LEAP), (m1.id, FEB), (m3.id, dt.date(2028, 2, 3))], AFTER)
    # m2's day was settled while still open and the sweep has not run yet
    await settle_days(pid, [(m2.id, dt.date(2028, 2, 10))], today=dt.date(2028, 2, 10))
    assert (await DailyAttendance.get(member_id=m2.id)).state == DayState.TODAY
    return StatsWorld(world, sub, team_b, m1, id1, ph1, m2, m3, m4)


@pytest.fixture(autouse=True)
def _fixed_clock(clock: Callable[[dt.datetime], None]) -> None:
    """Every attendance test runs on 2028-03-10 12:00 Asia/Shanghai unless it moves the clock
    (the ``clock`` fixture: the platform's one clock)."""
    clock(dt.datetime(2028, 3, 10, 12, tzinfo=DEFAULT_TZ))

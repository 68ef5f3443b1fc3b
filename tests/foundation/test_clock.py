"""The platform's one clock (``services.localtime``): "now", and "today" in a project's zone.

The ``clock`` fixture sets it; the rules that compare a date with today follow it, in the
project's zone rather than the server's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from models import ParticipatingUnit, Project, UnitRole
from services import localtime
from tests.devices.helpers import make_device, punch, upload
from tests.factories import auth, enterprise_token, make_enterprise, make_member, make_project

# 17:30 UTC on June 1st: already 01:30 on June 2nd in Shanghai, still 23:30 June 1st in Urumqi.
EVENING_UTC = dt.datetime(2028, 6, 1, 17, 30, tzinfo=dt.UTC)


def test_now_and_today_follow_the_clock(clock: Callable[[dt.datetime], None]) -> None:
    clock(EVENING_UTC)
    assert localtime.now() == EVENING_UTC and localtime.now().tzinfo == dt.UTC
    assert localtime.today(localtime.zone("Asia/Shanghai")) == dt.date(2028, 6, 2)
    assert localtime.today(localtime.zone("Asia/Urumqi")) == dt.date(2028, 6, 1)
    urumqi = Project(timezone="Asia/Urumqi")
    assert localtime.project_today(urumqi) == dt.date(2028, 6, 1)
    assert localtime.project_today(Project(timezone="")) == dt.date(2028, 6, 2)  # the platform's
    clock(dt.datetime(2028, 6, 2, 1, 30, tzinfo=localtime.zone("Asia/Shanghai")))
    assert localtime.now() == EVENING_UTC  # any aware moment, read back in UTC


def test_the_clock_needs_an_aware_moment(clock: Callable[[dt.datetime], None]) -> None:
    with pytest.raises(ValueError):
        clock(dt.datetime(2028, 6, 1, 17, 30))


def test_unsetting_gives_the_system_clock_back(clock: Callable[[dt.datetime], None]) -> None:
    """What the fixture does after each test."""
    clock(EVENING_UTC)
    localtime.set_now(None)
    before = dt.datetime.now(dt.UTC)
    assert before <= localtime.now() <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("zone", "last_allowed"),
    [("Asia/Shanghai", dt.date(2028, 6, 2)), ("Asia/Urumqi", dt.date(2028, 6, 1))],
)
async def test_unit_exit_date_is_checked_against_the_projects_today(
    client: Any, redis: Any, clock: Callable[[dt.datetime], None], zone: str, last_allowed: dt.date
) -> None:
    """出场日期不能晚于今天: today is the project's, from the clock (the server's date was used)."""
    clock(EVENING_UTC)
    world = await make_project()
    await Project.filter(id=world.project.id).update(timezone=zone)
    unit = await ParticipatingUnit.create(
        project=world.project,
        enterprise=await make_enterprise(),
        role=UnitRole.LABOUR_SUB,
        entry_date=dt.date(2028, 5, 1),
    )
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    url = f"/admin/v1/projects/{world.project.code}/units/{unit.id}/exit"
    r = await client.post(
        url, json={"exit_date": str(last_allowed + dt.timedelta(days=1))}, headers=h
    )
    assert r.status_code == 422 and r.json()["message"] == "出场日期不能晚于今天"
    r = await client.post(url, json={"exit_date": str(last_allowed)}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["exit_date"] == str(last_allowed)


async def test_statistics_default_to_the_projects_month(
    client: Any, redis: Any, clock: Callable[[dt.datetime], None]
) -> None:
    """打卡统计 without a month shows the project's current month (the server's was used)."""
    clock(dt.datetime(2028, 6, 30, 17, 30, tzinfo=dt.UTC))  # July 1st, 01:30 in Shanghai
    world = await make_project()
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/attendance/punch-stats", headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["month"] == "2028-07"


async def test_punch_times_are_judged_by_the_clock(
    client: Any, redis: Any, clock: Callable[[dt.datetime], None]
) -> None:
    """The punch pipeline's "in the future" is the clock's future (it read the system clock)."""
    real = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock(real - dt.timedelta(days=3))
    world = await make_project()
    member = await make_member(world, entry_date=(real - dt.timedelta(days=10)).date())
    dev = await make_device(world)
    r = await upload(
        client,
        dev,
        [
            punch("c1", member.person_id, when=real - dt.timedelta(days=3, hours=1)),
            punch("c2", member.person_id, when=real),
        ],
    )
    assert r.status_code == 200, r.text
    got = [(x["id"], x["status"], x.get("reason")) for x in r.json()["results"]]
    assert got == [("c1", "accepted", None), ("c2", "rejected", "time_in_future")]

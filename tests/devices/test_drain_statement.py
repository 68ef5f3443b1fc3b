"""PostgreSQL's one-statement drain pass (``services.attendance.pending._PG_DRAIN``): it claims
ready marks, settles and deletes those of the projects whose zone the drain knows, and leaves to
the general pass what it cannot do itself — marks of other projects, a day outside the settled
range (set aside there), a day whose settlement raises."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from tortoise import connections

from models import DailyAttendance, DayState, Punch
from models.settlement import PendingSettlement
from services import attendance
from services.attendance import pending
from services.attendance.clock import project_zone
from tests.attendance.helpers import at, punch
from tests.factories import make_member, make_project, site_today


@pytest.fixture(autouse=True)
async def _postgres_only(database: None) -> None:
    if connections.get("default").capabilities.dialect != "postgres":
        pytest.skip("the one-statement drain is PostgreSQL's")
    await attendance.settle_pending()  # earlier tests' ready marks: the claims below are exact


async def _member_with_day(world, day: dt.date):
    member = await make_member(world, entry_date=day - dt.timedelta(days=30))
    await punch(member, at(day, 8))
    await punch(member, at(day, 17), "out")
    await PendingSettlement.create(project_id=world.project.id, member_id=member.id, day=day)
    return member


async def test_it_settles_its_projects_and_leaves_the_rest_to_the_general_pass() -> None:
    day = site_today() - dt.timedelta(days=2)
    known, other = await make_project(), await make_project()
    settled = await _member_with_day(known, day)
    early = await make_member(known, entry_date=dt.date(1999, 1, 1))
    await PendingSettlement.create(
        project_id=known.project.id, member_id=early.id, day=dt.date(1999, 12, 31)
    )
    foreign = await _member_with_day(other, day)
    zones = {known.project.id: await project_zone(known.project.id)}

    claimed, written, out_of_range, others = await pending._pg_drain_pass(100, zones)

    assert (claimed, written, out_of_range, others) == (3, 1, 1, True)
    row = await DailyAttendance.get(member_id=settled.id, day=day)
    assert (row.state, row.duration_seconds, row.punch_count) == (DayState.NORMAL, 9 * 3600, 2)
    assert not await PendingSettlement.filter(member_id=settled.id).exists()
    # The day before the settled range is neither settled nor deleted, nor set aside here.
    kept = await PendingSettlement.get(member_id=early.id)
    assert (kept.attempts, kept.retry_at) == (0, None)
    # The other project's mark (claimed for the statement only) is untouched.
    assert await PendingSettlement.filter(member_id=foreign.id).exists()
    assert not await DailyAttendance.filter(member_id=foreign.id).exists()

    # settle_pending takes both to the general pass: settled, and set aside.
    await attendance.settle_pending()
    assert not await PendingSettlement.filter(member_id=foreign.id).exists()
    assert (await DailyAttendance.get(member_id=foreign.id, day=day)).punch_count == 2
    aside = await PendingSettlement.get(member_id=early.id)
    assert aside.attempts == 1 and aside.error and aside.retry_at is not None


async def test_it_claims_at_most_its_limit_oldest_first() -> None:
    day = site_today() - dt.timedelta(days=3)
    world = await make_project()
    first = await _member_with_day(world, day)
    second = await _member_with_day(world, day)
    zones = {world.project.id: await project_zone(world.project.id)}

    claimed, written, out_of_range, others = await pending._pg_drain_pass(1, zones)

    assert (claimed, written, out_of_range, others) == (1, 1, 0, False)
    assert await DailyAttendance.filter(member_id=first.id, day=day).exists()
    assert await PendingSettlement.filter(member_id=second.id).exists()
    assert await pending._pg_drain_pass(1, zones) == (1, 1, 0, False)
    assert await DailyAttendance.filter(member_id=second.id, day=day).exists()


async def test_a_day_that_raises_falls_back_to_the_general_pass(caplog) -> None:
    """The statement settling a day whose duration does not fit the column fails as a whole;
    the general pass then settles the other day and sets the broken one aside."""
    day = site_today() - dt.timedelta(days=4)
    world = await make_project()
    good = await _member_with_day(world, day)
    broken = await make_member(world, entry_date=day - dt.timedelta(days=30))
    # An in-punch from 1901 filed under this day (as a damaged import could leave it).
    old = await punch(broken, dt.datetime(1901, 1, 1, 8, tzinfo=dt.UTC))
    await Punch.filter(id=old.id).update(local_date=day)
    await punch(broken, at(day, 17), "out")
    await PendingSettlement.create(project_id=world.project.id, member_id=broken.id, day=day)
    zones = {world.project.id: await project_zone(world.project.id)}
    with pytest.raises(Exception, match="integer|range"):
        await pending._pg_drain_pass(100, zones)
    assert await PendingSettlement.filter(member_id=good.id).exists()  # nothing of it kept

    await pending._zone_of(world.project.id)  # the drain knows the zone: the fast pass first
    with caplog.at_level(logging.WARNING, logger="realname.attendance"):
        await attendance.settle_pending()

    assert (await DailyAttendance.get(member_id=good.id, day=day)).punch_count == 2
    assert not await PendingSettlement.filter(member_id=good.id).exists()
    aside = await PendingSettlement.get(member_id=broken.id)
    assert aside.attempts == 1 and aside.error
    assert any("one-statement" in r.getMessage() for r in caplog.records)

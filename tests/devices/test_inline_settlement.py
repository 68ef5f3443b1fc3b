"""SQLite settles the days a grouped insert touches in the insert's own transaction (one commit
for the punches and their days); a day that cannot be settled there is marked pending instead,
so the pending pass settles it or sets it aside. PostgreSQL always marks (see
``test_pending_settlement``)."""

from __future__ import annotations

import datetime as dt

from tortoise import connections

from models import DailyAttendance, DayState
from models.settlement import PendingSettlement
from services import attendance
from tests.devices.helpers import make_device, punch, upload
from tests.factories import make_member, make_project, site_today

CST = dt.timezone(dt.timedelta(hours=8))


def _sqlite() -> bool:
    return connections.get("default").capabilities.dialect == "sqlite"


async def test_the_days_are_settled_in_the_insert_commit(client, monkeypatch):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
    day = site_today() - dt.timedelta(days=4)
    kicks: list[None] = []
    monkeypatch.setattr(attendance, "kick_pending", lambda **_: kicks.append(None))
    t_in = dt.datetime.combine(day, dt.time(8, 0), CST)
    t_out = dt.datetime.combine(day, dt.time(17, 0), CST)
    r = await upload(
        client,
        dev,
        [
            punch("i1", member.person_id, when=t_in),
            punch("o1", member.person_id, when=t_out, direction="out"),
        ],
    )
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"]
    marked = await PendingSettlement.filter(member_id=member.id, day=day).exists()
    if _sqlite():
        # Settled when the reply was sent: no mark, no drain.
        assert not marked and not kicks
    else:
        assert marked and kicks
        await attendance.settle_pending()
    settled = await DailyAttendance.get(member_id=member.id, day=day)
    assert settled.state == DayState.NORMAL and settled.punch_count == 2
    assert settled.duration_seconds == int((t_out - t_in).total_seconds())
    # A later punch of the same day re-settles it from every punch of the day.
    await upload(
        client,
        dev,
        [punch("o2", member.person_id, when=t_out + dt.timedelta(hours=1), direction="out")],
    )
    await attendance.wait_pending()
    settled = await DailyAttendance.get(member_id=member.id, day=day)
    assert settled.punch_count == 3
    assert settled.duration_seconds == int((t_out - t_in).total_seconds()) + 3600


async def test_a_day_that_fails_inline_is_marked_and_the_others_settle(client, monkeypatch):
    world = await make_project()
    dev = await make_device(world)
    entered = site_today() - dt.timedelta(days=20)
    good = await make_member(world, entry_date=entered)
    broken = await make_member(world, entry_date=entered)
    day = site_today() - dt.timedelta(days=3)
    # A damaged punch of the broken member's day (as an old import could have left it): its
    # settlement raises on both engines.
    conn = connections.get("default")
    pg = not _sqlite()
    ph = [f"${i}" if pg else "?" for i in range(1, 6)]
    when = "'1901-01-01 08:00:00+08:00'" if pg else "'not a time'"
    await conn.execute_query(
        "INSERT INTO punch (project_id, member_id, person_id, device_punch_id, time, local_date,"
        " direction, liveness, source, status, received_at)"
        f" VALUES ({ph[0]}, {ph[1]}, {ph[2]}, {ph[3]}, {when}, {ph[4]}, 'in', true,"
        " 'device', 'accepted', '2026-11-30 00:00:00+00:00')",
        [world.project.id, broken.id, broken.person_id, "forced-in", day],
    )
    kicks: list[None] = []
    monkeypatch.setattr(attendance, "kick_pending", lambda **_: kicks.append(None))
    t_out = dt.datetime.combine(day, dt.time(17, 0), CST)
    r = await upload(
        client,
        dev,
        [
            punch("g-in", good.person_id, when=t_out - dt.timedelta(hours=8)),
            punch("g-out", good.person_id, when=t_out, direction="out"),
            punch("b-out", broken.person_id, when=t_out, direction="out"),
        ],
    )
    assert [x["status"] for x in r.json()["results"]] == ["accepted"] * 3
    # The broken day is marked (and the drain kicked); the good day is settled or marked.
    assert await PendingSettlement.filter(member_id=broken.id, day=day).count() == 1
    assert kicks
    if _sqlite():
        assert not await PendingSettlement.filter(member_id=good.id).exists()
        assert (await DailyAttendance.get(member_id=good.id, day=day)).state == DayState.NORMAL
    await attendance.settle_pending()
    assert (await DailyAttendance.get(member_id=good.id, day=day)).state == DayState.NORMAL
    # The pending pass sets the broken day aside with its error, as for any failing day.
    mark = await PendingSettlement.get(member_id=broken.id, day=day)
    assert mark.attempts == 1 and mark.error and mark.retry_at is not None
    assert not await DailyAttendance.filter(member_id=broken.id).exists()
    await PendingSettlement.filter(member_id=broken.id).delete()  # later tests' passes

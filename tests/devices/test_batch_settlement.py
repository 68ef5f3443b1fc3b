"""A batch upload (more punches than a group takes) is its own group: on SQLite the days it touches
are settled in the insert's own transaction, as for grouped single punches
(``test_inline_settlement``); PostgreSQL marks them and the drain settles them."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

from tortoise import connections

from models import DailyAttendance, DayState, Device, Punch
from models.settlement import PendingSettlement
from services import attendance, ingest
from services.attendance import pending
from tests.devices.helpers import make_device, punch, upload
from tests.factories import make_member, make_project, site_today

CST = dt.timezone(dt.timedelta(hours=8))


async def test_a_batch_settles_its_days_in_the_insert_commit(client, monkeypatch):
    world = await make_project()
    dev = await make_device(world)
    entered = site_today() - dt.timedelta(days=20)
    members = [await make_member(world, entry_date=entered) for _ in range(3)]
    days = [site_today() - dt.timedelta(days=n) for n in (2, 3, 4, 5)]
    batch = []
    for m in members:
        for day in days:
            start = dt.datetime.combine(day, dt.time(8, 0), CST)
            batch.append(punch(f"{m.id}-{day}-i", m.person_id, when=start))
            batch.append(
                punch(
                    f"{m.id}-{day}-o",
                    m.person_id,
                    when=start + dt.timedelta(hours=9),
                    direction="out",
                )
            )
    assert len(batch) > ingest.GROUP_MAX_ROWS
    kicks: list[None] = []
    monkeypatch.setattr(attendance, "kick_pending", lambda **_: kicks.append(None))
    r = await upload(client, dev, batch)
    assert [x["status"] for x in r.json()["results"]] == ["accepted"] * len(batch)
    ids = [m.id for m in members]
    # The columns one upload shares (PostgreSQL sends them once for a batch) are stored on
    # every row, beside each punch's own.
    stored = await Punch.filter(member_id__in=ids).values_list(
        "project_id", "device_id", "source", "received_at", "member_id", "device_punch_id"
    )
    assert len(stored) == len(batch)
    device_id = await Device.get(sn=dev.sn).values_list("id", flat=True)
    assert {row[:3] for row in stored} == {(world.project.id, device_id, "device")}
    assert len({row[3] for row in stored}) == 1
    assert {row[5] for row in stored} == {p["id"] for p in batch}
    assert {(row[4], row[5].split("-")[0]) for row in stored} == {
        (m.id, str(m.id)) for m in members
    }
    marked = await PendingSettlement.filter(member_id__in=ids).count()
    if connections.get("default").capabilities.dialect == "sqlite":
        # Settled when the reply was sent: no mark, no drain.
        assert marked == 0 and not kicks
    else:
        assert marked == len(members) * len(days) and kicks
        await attendance.settle_pending()
    settled = await DailyAttendance.filter(member_id__in=ids).order_by("member_id", "day")
    assert [(d.member_id, d.day) for d in settled] == [
        (i, day) for i in ids for day in sorted(days)
    ]
    assert {(d.state, d.punch_count, d.duration_seconds) for d in settled} == {
        (DayState.NORMAL, 2, 9 * 3600)
    }
    if connections.get("default").capabilities.dialect == "sqlite":
        # The moments formatted once per batch are stored as the driver's adapter writes any
        # other moment (text compared as text: one format).
        adapt = sqlite3.adapters[(dt.datetime, sqlite3.PrepareProtocol)]
        conn = connections.get("default")
        _, raw = await conn.execute_query(
            "SELECT received_at FROM punch WHERE member_id = ? LIMIT 1", [ids[0]]
        )
        assert raw[0][0] == adapt(stored[0][3])
        _, raw = await conn.execute_query(
            "SELECT settled_at FROM daily_attendance WHERE id = ?", [settled[0].id]
        )
        assert raw[0][0] == adapt(settled[0].settled_at)
    # Sent again: every punch a duplicate, nothing stored or settled twice.
    again = await upload(client, dev, batch)
    assert {x["status"] for x in again.json()["results"]} == {"duplicate"}
    assert await DailyAttendance.filter(member_id__in=ids).count() == len(settled)


async def test_a_batch_is_drained_without_the_coalescing_delay(client, monkeypatch):
    """PostgreSQL: a batch's days fill a drain pass alone, so the drain does not wait the moment
    it gathers single punches' days for (here made 30 s: the days are settled long before)."""
    if connections.get("default").capabilities.dialect != "postgres":
        return  # SQLite settles a batch in its insert's transaction (the test above)
    monkeypatch.setattr(pending, "PENDING_COALESCE_SECONDS", 30.0)
    world = await make_project()
    dev = await make_device(world)
    members = [
        await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
        for _ in range(ingest.GROUP_MAX_ROWS + 1)
    ]
    when = dt.datetime.combine(site_today() - dt.timedelta(days=2), dt.time(8, 0), CST)
    batch = [punch(f"{m.id}-nd", m.person_id, when=when) for m in members]
    r = await upload(client, dev, batch)
    assert {x["status"] for x in r.json()["results"]} == {"accepted"}
    # The drain this upload kicked (in the test's loop) ends long before the delay would.
    drainer = pending._drainers[asyncio.get_running_loop()]
    assert drainer.task is not None
    await asyncio.wait_for(asyncio.shield(drainer.task), timeout=5)
    ids = [m.id for m in members]
    assert not await PendingSettlement.filter(member_id__in=ids).exists()
    assert await DailyAttendance.filter(member_id__in=ids).count() == len(members)

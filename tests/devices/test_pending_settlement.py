"""Settlement off the reply path: the touched days are marked pending in the punches' transaction
and settled right after; a crash in between is recovered by the sweep."""

from __future__ import annotations

import datetime as dt

import pytest

from models import DailyAttendance, DayState, Punch
from models.settlement import PendingSettlement
from services import attendance, ingest
from tests.devices.helpers import call, make_device, punch, upload
from tests.factories import make_member, make_project, site_today

CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _marked_not_settled_inline(monkeypatch):
    """These tests follow the pending marks: the path of PostgreSQL, and of SQLite when the days
    are not settled in the insert's own transaction (here: that settlement fails). The inline
    settlement itself: ``test_inline_settlement``."""

    def fail(*args: object) -> None:
        raise RuntimeError("the inline settlement fails")

    monkeypatch.setattr(ingest, "sqlite_settle", fail)


async def _late_pair(client, dev, member, day, prefix):
    t_in = dt.datetime.combine(day, dt.time(8, 0), CST)
    t_out = dt.datetime.combine(day, dt.time(17, 0), CST)
    r = await upload(
        client,
        dev,
        [
            punch(f"{prefix}i", member.person_id, when=t_in),
            punch(f"{prefix}o", member.person_id, when=t_out, direction="out"),
        ],
    )
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"]
    return t_in, t_out


async def test_accepted_punches_mark_their_day_in_the_same_commit(client, monkeypatch):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
    day = site_today() - dt.timedelta(days=4)
    monkeypatch.setattr(attendance, "kick_pending", lambda **_: None)  # "crash" before settling
    await _late_pair(client, dev, member, day, "m")
    assert await PendingSettlement.filter(member_id=member.id, day=day).exists()
    assert not await DailyAttendance.filter(member_id=member.id, day=day).exists()
    await attendance.settle_pending()


async def test_sweep_settles_days_left_pending_by_a_crash(client, monkeypatch):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
    day = site_today() - dt.timedelta(days=5)
    monkeypatch.setattr(attendance, "kick_pending", lambda **_: None)  # the process died here
    t_in, t_out = await _late_pair(client, dev, member, day, "c")
    assert not await DailyAttendance.filter(member_id=member.id, day=day).exists()
    # On restart (and every few seconds) the sweep settles what is still pending.
    assert await attendance.settle_pending() >= 1
    settled = await DailyAttendance.get(member_id=member.id, day=day)
    assert settled.state == DayState.NORMAL
    assert settled.duration_seconds == int((t_out - t_in).total_seconds())
    assert not await PendingSettlement.filter(member_id=member.id, day=day).exists()


async def test_a_mark_made_during_settlement_survives_it(client, monkeypatch):
    """A punch committed after the settler claimed the marks writes a new mark; the settler
    deletes only the marks it claimed, so the new one is settled on the next pass."""
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
    day = site_today() - dt.timedelta(days=6)
    monkeypatch.setattr(attendance, "kick_pending", lambda **_: None)
    t_in = dt.datetime.combine(day, dt.time(8, 0), CST)
    await upload(client, dev, [punch("v1", member.person_id, when=t_in)])
    real_items = attendance.pending._Claim.items
    t_out = dt.datetime.combine(day, dt.time(18, 0), CST)

    async def punch_then_settle(claim):
        # A late out-punch is committed after the settler claimed the marks, before it settles.
        await upload(client, dev, [punch("v2", member.person_id, when=t_out, direction="out")])
        return await real_items(claim)

    monkeypatch.setattr(attendance.pending._Claim, "items", punch_then_settle)
    await attendance.settle_pending(limit=2)  # one pass: it claims the one mark there is
    # The mark written meanwhile survives this pass (settled on the next).
    assert await PendingSettlement.filter(member_id=member.id, day=day).count() == 1
    monkeypatch.setattr(attendance.pending._Claim, "items", real_items)
    await attendance.settle_pending()
    settled = await DailyAttendance.get(member_id=member.id, day=day)
    assert settled.state == DayState.NORMAL and settled.punch_count == 2
    assert not await PendingSettlement.filter(member_id=member.id, day=day).exists()


async def test_rejected_and_duplicate_punches_mark_nothing(client, monkeypatch):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
    day = site_today() - dt.timedelta(days=7)
    when = dt.datetime.combine(day, dt.time(9, 0), CST)
    monkeypatch.setattr(attendance, "kick_pending", lambda **_: None)
    body = {"punches": [punch("r1", member.person_id, when=when, liveness=False)]}
    r = await call(client, dev, "POST", "/device/v1/punches", body)
    assert r.json()["results"][0]["reason"] == "no_liveness"
    assert not await PendingSettlement.filter(member_id=member.id, day=day).exists()
    body = {"punches": [punch("r2", member.person_id, when=when)]}
    await call(client, dev, "POST", "/device/v1/punches", body)
    assert await PendingSettlement.filter(member_id=member.id, day=day).count() == 1
    r = await call(client, dev, "POST", "/device/v1/punches", body)  # a retry
    assert r.json()["results"][0]["status"] == "duplicate"
    assert await PendingSettlement.filter(member_id=member.id, day=day).count() == 1
    await attendance.settle_pending()


async def test_ingest_settles_right_after_the_reply(client):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=20))
    day = site_today() - dt.timedelta(days=8)
    await _late_pair(client, dev, member, day, "k")
    await attendance.wait_pending()
    assert (await DailyAttendance.get(member_id=member.id, day=day)).state == DayState.NORMAL
    assert not await PendingSettlement.filter(member_id=member.id, day=day).exists()
    assert await Punch.filter(device__sn=dev.sn).count() == 2

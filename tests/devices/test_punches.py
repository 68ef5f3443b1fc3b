"""The punch pipeline over the native protocol: results, reasons, duplicates, late punches."""

from __future__ import annotations

import asyncio
import datetime as dt

from models import DailyAttendance, DayState, Punch, PunchStatus, WorkStatus
from models.contracts import ContractStatus
from services import attendance
from tests.devices.helpers import (
    JPEG_B64,
    device_world,
    make_device,
    punch,
    upload,
    upload_in_out,
    valid_id_number,
)
from tests.factories import make_contract, make_member, make_person, make_project, site_today
from tests.suite import uid

CST = dt.timezone(dt.timedelta(hours=8))


async def test_mixed_batch_results_in_order_with_every_reason(client):
    world, dev, good = await device_world()
    left = await make_member(world, work_status=WorkStatus.LEFT)
    no_card = await make_member(world, bank_card=None)
    red = await make_member(world, entry_date=site_today() - dt.timedelta(days=40))
    outsider, _, _ = await make_person()
    other_world = await make_project()
    elsewhere = await make_member(other_world)
    by_number, number, _ = await make_person(id_number=valid_id_number())
    await make_member(world, person=by_number)
    future = dt.datetime.now(CST) + dt.timedelta(hours=2)
    items = [
        punch("a1", good.person_id, photo=JPEG_B64, lat=36.6, lng=101.7),
        punch("a2", good.person_id, liveness=False),
        punch("a3", 99_999_999),
        punch("a4", left.person_id),
        punch("a5", no_card.person_id),
        punch("a6", red.person_id),
        punch("a7", outsider.id),
        punch("a8", elsewhere.person_id),
        punch("a9", good.person_id, when=future),
        {
            "id": "a10",
            "person_id": good.person_id,
            "time": "yesterday",
            "direction": "in",
            "liveness": True,
        },
        {
            "id": "a11",
            "id_number": number,
            "time": dt.datetime.now(CST).isoformat(),
            "direction": "out",
            "liveness": True,
        },
        {
            "id": "a12",
            "person_id": good.person_id,
            "time": dt.datetime.now(CST).isoformat(),
            "direction": "sideways",
            "liveness": True,
        },
    ]
    r = await upload(client, dev, items)
    assert r.status_code == 200, r.text
    got = [(x["id"], x["status"], x.get("reason")) for x in r.json()["results"]]
    assert got == [
        ("a1", "accepted", None),
        ("a2", "rejected", "no_liveness"),
        ("a3", "rejected", "unknown_person"),
        ("a4", "rejected", "not_on_project"),
        ("a5", "rejected", "missing_wage_card"),
        ("a6", "rejected", "contract_red"),
        ("a7", "rejected", "not_on_project"),
        ("a8", "rejected", "not_on_project"),
        ("a9", "rejected", "time_in_future"),
        ("a10", "rejected", "bad_field"),
        ("a11", "accepted", None),
        ("a12", "rejected", "bad_field"),
    ]
    rows = {p.device_punch_id: p for p in await Punch.filter(device__sn=dev.sn)}
    assert len(rows) == 12  # rejected punches are stored too, with their reason
    assert rows["a2"].status == PunchStatus.REJECTED and rows["a2"].reason == "no_liveness"
    assert rows["a1"].photo_key and rows["a1"].lat == 36.6
    assert rows["a10"].payload["_bad_field"] == "time"


async def test_duplicates_across_retries_and_within_a_batch(client):
    world, dev, member = await device_world()
    items = [punch("d1", member.person_id), punch("d2", member.person_id, liveness=False)]
    r1 = await upload(client, dev, items)
    r2 = await upload(
        client, dev, items + [punch("d3", member.person_id), punch("d3", member.person_id)]
    )
    assert [x["status"] for x in r1.json()["results"]] == ["accepted", "rejected"]
    assert [x["status"] for x in r2.json()["results"]] == [
        "duplicate",
        "duplicate",
        "accepted",
        "duplicate",
    ]
    assert await Punch.filter(device__sn=dev.sn).count() == 3


async def test_concurrent_retries_store_once(client):
    world, dev, member = await device_world()
    items = [punch(f"c{i}", member.person_id) for i in range(20)]
    replies = await asyncio.gather(*[upload(client, dev, items) for _ in range(4)])
    statuses = [x["status"] for r in replies for x in r.json()["results"]]
    assert statuses.count("accepted") == 20 and statuses.count("duplicate") == 60
    assert await Punch.filter(device__sn=dev.sn).count() == 20


async def test_grouped_single_punches_keep_duplicates_and_devices_apart(client):
    """Concurrent single-punch requests share one insert (group commit): a retry of the same
    punch is still answered "duplicate", and the same punch id on two devices is two punches."""
    world, dev, member = await device_world()
    dev2 = await make_device(world)
    same = punch("g1", member.person_id)
    others = [punch(f"g{i}", member.person_id) for i in range(2, 8)]
    requests = [(dev, [same]) for _ in range(5)] + [(dev2, [same])]
    requests += [(dev, [p]) for p in others]
    replies = await asyncio.gather(*[upload(client, d, ps) for d, ps in requests])
    statuses = [r.json()["results"][0]["status"] for r in replies]
    assert statuses[:5].count("accepted") == 1 and statuses[:5].count("duplicate") == 4
    assert statuses[5:] == ["accepted"] * 7
    assert await Punch.filter(device__sn=dev.sn).count() == 7
    assert await Punch.filter(device__sn=dev2.sn, device_punch_id="g1").count() == 1


async def test_late_punches_keep_real_time_and_resettle(client):
    world, dev, member = await device_world()
    day = site_today() - dt.timedelta(days=3)
    t_in = dt.datetime.combine(day, dt.time(7, 58), CST)
    t_out = dt.datetime.combine(day, dt.time(17, 31), CST)
    r = await upload_in_out(client, dev, member.person_id, t_in, t_out, ids=("l1", "l2"))
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "accepted"]
    stored = await Punch.get(device__sn=dev.sn, device_punch_id="l1")
    assert stored.local_date == day and stored.time == t_in
    await attendance.wait_pending()  # the touched days are settled right after the reply
    settled = await DailyAttendance.get(member_id=member.id, day=day)
    assert settled.state == DayState.NORMAL
    assert settled.duration_seconds == int((t_out - t_in).total_seconds())


async def test_local_date_uses_project_time_zone(client):
    world, dev, member = await device_world()
    # 23:30 UTC is the next morning in Xining (UTC+8).
    when = dt.datetime.combine(site_today() - dt.timedelta(days=2), dt.time(23, 30), dt.UTC)
    await upload(client, dev, [punch("tz1", member.person_id, when=when)])
    stored = await Punch.get(device__sn=dev.sn, device_punch_id="tz1")
    assert stored.local_date == when.astimezone(CST).date()


async def test_small_clock_skew_is_accepted(client):
    world, dev, member = await device_world()
    ahead = dt.datetime.now(CST) + dt.timedelta(seconds=90)
    r = await upload(client, dev, [punch("s1", member.person_id, when=ahead)])
    assert r.json()["results"][0]["status"] == "accepted"


async def test_bad_ids_are_rejected_and_stored_once(client):
    world, dev, member = await device_world()
    items = [{"id": "x" * 65, "person_id": member.person_id}, "not-an-object"]
    r = await upload(client, dev, items)
    assert [(x["status"], x["reason"]) for x in r.json()["results"]] == [
        ("rejected", "bad_field"),
        ("rejected", "bad_field"),
    ]
    r = await upload(client, dev, items)
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]
    assert await Punch.filter(device__sn=dev.sn).count() == 2
    assert {p.reason for p in await Punch.filter(device__sn=dev.sn)} == {"bad_field"}


async def test_unknown_id_number(client):
    world, dev, member = await device_world()
    r = await upload(
        client,
        dev,
        [
            {
                "id": uid(),
                "id_number": valid_id_number(),
                "time": dt.datetime.now(CST).isoformat(),
                "direction": "in",
                "liveness": True,
            }
        ],
    )
    assert r.json()["results"][0]["reason"] == "unknown_person"


async def test_contract_in_force_is_read_with_the_member(client):
    """Rule 4 on the device path reads the contract state with the member row: only a contract
    in force (not terminated, not deleted) keeps a member entered 40 days ago from red."""
    world, dev, _ = await device_world()
    entered = site_today() - dt.timedelta(days=40)
    members = [await make_member(world, entry_date=entered) for _ in range(4)]
    signed, ended, removed, unsigned = members
    for m, status, deleted in (
        (signed, ContractStatus.ACTIVE, None),
        (ended, ContractStatus.TERMINATED, None),
        (removed, ContractStatus.ACTIVE, dt.datetime.now(dt.UTC)),
    ):
        await make_contract(m, status=status, deleted_at=deleted)
    items = [punch(f"c{i}", m.person_id) for i, m in enumerate(members)]
    r = await upload(client, dev, items)
    assert r.status_code == 200, r.text
    assert [(x["status"], x.get("reason")) for x in r.json()["results"]] == [
        ("accepted", None),
        ("rejected", "contract_red"),
        ("rejected", "contract_red"),
        ("rejected", "contract_red"),
    ]


async def test_punches_in_other_offsets_are_stored_as_one_timeline(client, redis):
    """A gate terminal sends China time (+08:00), a Bluetooth handset UTC (Z), and a supplement
    is China time: stored as one UTC timeline, the day's punches list in the order they
    happened and the window filters see them (SQLite compares the stored text: with each
    punch's own offset kept, 08:30 China time sent as 00:30Z sorted before 08:00+08:00)."""
    from tortoise import connections

    from tests.factories import auth, enterprise_token

    world, dev, member = await device_world()
    handset = await make_device(world, kind="mobile")
    day = site_today() - dt.timedelta(days=1)
    gate_in = dt.datetime.combine(day, dt.time(8, 0), CST)
    handset_in = dt.datetime.combine(day, dt.time(8, 30), CST).astimezone(dt.UTC)
    gate_out = dt.datetime.combine(day, dt.time(17, 0), CST)
    pid = member.person_id  # type: ignore[attr-defined]
    r = await upload(client, dev, [punch(uid("g"), pid, when=gate_in)])
    assert r.json()["results"][0]["status"] == "accepted", r.text
    r = await upload(client, handset, [punch(uid("h"), pid, when=handset_in)])
    assert r.json()["results"][0]["status"] == "accepted", r.text
    r = await upload(client, dev, [punch(uid("g"), pid, when=gate_out, direction="out")])
    assert r.json()["results"][0]["status"] == "accepted", r.text
    rows = await connections.get("default").execute_query_dict(
        f"SELECT time FROM punch WHERE member_id = {int(member.id)} ORDER BY time"
    )
    texts = [r["time"] for r in rows if isinstance(r["time"], str)]
    assert all(t.endswith("+00:00") for t in texts), texts  # SQLite: UTC text only
    token = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/attendance/members/{member.id}/punches"
    r = await client.get(url, params={"date": day.isoformat()}, headers=auth(token))
    listed = [dt.datetime.fromisoformat(p["time"]) for p in r.json()["punches"]]
    assert listed == [gate_in, handset_in, gate_out], listed

"""Plausible punch times (a look-back for late uploads, the entry date, a clock tolerance ahead),
rejected punches kept with their member, and punch payloads without personal data in clear."""

from __future__ import annotations

import base64
import datetime as dt

from config.settings import get_settings
from models import DailyAttendance, DayState, Punch, PunchStatus
from models.people import Post
from models.settlement import PendingSettlement
from services import attendance, identity, pii
from services.identity import Principal
from services.pii import PiiCipher
from tests.devices.helpers import make_device, punch, upload, valid_id_number
from tests.factories import make_member, make_person, make_project, site_today

CST = dt.timezone(dt.timedelta(hours=8))


async def _send(client, dev, *items):
    r = await upload(client, dev, list(items))
    assert r.status_code == 200, r.text
    return [(x["status"], x.get("reason")) for x in r.json()["results"]]


def _raw(pid: str, person_id: int, time: str, direction: str = "in") -> dict:
    return {
        "id": pid,
        "person_id": person_id,
        "time": time,
        "direction": direction,
        "liveness": True,
    }


async def test_impossible_and_ancient_times_are_rejected_and_kept(client):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world)
    now = dt.datetime.now(CST)
    received_day = now.date()
    results = await _send(
        client,
        dev,
        _raw("t0001", member.person_id, "0001-01-01T00:00:00+08:00"),
        _raw("t1900", member.person_id, "1900-01-01T08:00:00+08:00"),
        _raw("t1970", member.person_id, "1970-01-01T08:00:00+08:00", "out"),
        _raw("t9999", member.person_id, "9999-12-31T23:59:59-08:00"),
        punch("tok", member.person_id, when=now.replace(microsecond=0)),
        {**_raw("tbad", member.person_id, "0001-01-01T00:00:00+08:00"), "direction": "up"},
    )
    assert results == [
        ("rejected", "time_out_of_range"),
        ("rejected", "time_out_of_range"),
        ("rejected", "time_out_of_range"),
        ("rejected", "time_out_of_range"),
        ("accepted", None),
        ("rejected", "bad_field"),
    ]
    rows = {p.device_punch_id: p for p in await Punch.filter(device__sn=dev.sn)}
    assert set(rows) == {"t0001", "t1900", "t1970", "t9999", "tok", "tbad"}
    for key in ("t0001", "t1900", "t1970", "t9999"):
        stored = rows[key]
        # Kept for diagnosis: with the member, under the day it arrived, the value as sent.
        assert stored.status == PunchStatus.REJECTED and stored.reason == "time_out_of_range"
        assert stored.member_id == member.id and stored.person_id == member.person_id
        assert stored.local_date == received_day
        assert stored.payload["time"].startswith(key[1:])
    assert rows["t1970"].time == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # representable: as sent
    # Nothing of them is pending or settled; the settlement keeps running for everyone.
    assert await PendingSettlement.filter(member_id=member.id, day__lt=received_day).count() == 0
    await attendance.wait_pending()
    assert not await PendingSettlement.filter(member_id=member.id).exists()
    days = await DailyAttendance.filter(member_id=member.id).values_list("day", flat=True)
    assert days == [received_day]
    # The member's punch diagnosis of that day shows them with a Chinese reason.
    operator = await identity.compute_access(
        Principal(kind="operator", account_id=0), world.project
    )
    diagnosis = await attendance.member_day_punches(operator, member.id, received_day)
    reasons = {p["reason"] for p in diagnosis["punches"] if p["status"] == "rejected"}
    assert reasons == {"time_out_of_range"}
    assert "超出有效范围" in attendance.REASON_LABELS["time_out_of_range"]


async def test_adms_row_dated_year_one_is_rejected(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=True)
    member = await make_member(world)
    yesterday = site_today() - dt.timedelta(days=1)
    body = f"{member.id}\t0001-01-01 00:00:00\t0\t15\n{member.id}\t{yesterday} 08:01:00\t0\t15\n"
    r = await client.post(f"/iclock/cdata?SN={dev.sn}&table=ATTLOG", content=body.encode())
    assert r.status_code == 200
    rows = await Punch.filter(device__sn=dev.sn).order_by("id")
    by_status = {(p.status, p.reason) for p in rows}
    assert by_status == {
        (PunchStatus.REJECTED, "time_out_of_range"),
        (PunchStatus.ACCEPTED, None),
    }
    bad = next(p for p in rows if p.status == PunchStatus.REJECTED)
    assert bad.member_id == member.id  # its PIN is known: kept with the member
    await attendance.wait_pending()
    assert (await DailyAttendance.get(member_id=member.id, day=yesterday)).punch_count == 1


async def test_adms_year_one_in_another_zone_with_auto_direction(client):
    """A terminal in another zone than its project, directions decided by the platform: the
    impossible row still gets a rejection, never a server error."""
    world = await make_project()
    dev = await make_device(
        world, protocol="adms", antispoof=True, timezone="Asia/Urumqi", direction_mode="auto"
    )
    member = await make_member(world)
    yesterday = site_today() - dt.timedelta(days=1)
    body = (
        f"{member.id}\t0001-01-01 00:00:00\t255\t15\n{member.id}\t{yesterday} 09:00:00\t255\t15\n"
    )
    r = await client.post(f"/iclock/cdata?SN={dev.sn}&table=ATTLOG", content=body.encode())
    assert r.status_code == 200, r.text
    reasons = sorted(
        (p.reason or "") for p in await Punch.filter(device__sn=dev.sn, member_id=member.id)
    )
    assert reasons == ["", "time_out_of_range"]


async def test_look_back_and_entry_date(client):
    lookback = get_settings().punch_lookback_days
    world = await make_project()
    dev = await make_device(world)
    today = dt.datetime.now(CST).date()
    # Management staff: no contract warning blocks an old punch, only the time rules apply.
    veteran = await make_member(
        world,
        person_type="management",
        post=Post.PROJECT_MANAGER,
        entry_date=today - dt.timedelta(days=lookback + 30),
    )
    newcomer = await make_member(world, entry_date=today - dt.timedelta(days=2))
    inside = dt.datetime.combine(today - dt.timedelta(days=lookback - 1), dt.time(9), CST)
    outside = dt.datetime.combine(today - dt.timedelta(days=lookback + 1), dt.time(9), CST)
    on_entry = dt.datetime.combine(today - dt.timedelta(days=2), dt.time(0, 0), CST)
    before_entry = on_entry - dt.timedelta(seconds=1)
    results = await _send(
        client,
        dev,
        punch("in-window", veteran.person_id, when=inside),
        punch("too-old", veteran.person_id, when=outside),
        punch("entry-day", newcomer.person_id, when=on_entry),
        punch("pre-entry", newcomer.person_id, when=before_entry),
    )
    assert results == [
        ("accepted", None),
        ("rejected", "time_out_of_range"),
        ("accepted", None),
        ("rejected", "time_out_of_range"),
    ]
    await attendance.wait_pending()
    late = await DailyAttendance.get(member_id=veteran.id, day=inside.date())
    assert late.state == DayState.ABNORMAL and late.punch_count == 1


async def test_clock_tolerance_ahead(client):
    world = await make_project()
    dev = await make_device(world)
    member = await make_member(world)
    window = get_settings().device_clock_window_seconds
    now = dt.datetime.now(CST).replace(microsecond=0)
    results = await _send(
        client,
        dev,
        punch("ahead-ok", member.person_id, when=now + dt.timedelta(seconds=window - 30)),
        punch("ahead-bad", member.person_id, when=now + dt.timedelta(seconds=window + 60)),
    )
    assert results == [("accepted", None), ("rejected", "time_in_future")]
    # Rejected for its time, it is still tied to the member (diagnosis shows it).
    stored = await Punch.get(device__sn=dev.sn, device_punch_id="ahead-bad")
    assert stored.member_id == member.id and stored.person_id == member.person_id


async def test_rejected_punches_keep_a_known_pin_or_person(client):
    world = await make_project()
    other = await make_project()
    stranger = await make_member(other)  # a member of another project
    dev = await make_device(world, protocol="adms", antispoof=True)
    yesterday = site_today() - dt.timedelta(days=1)
    body = f"{stranger.id}\t{yesterday} 08:00:00\t0\t15\n"
    r = await client.post(f"/iclock/cdata?SN={dev.sn}&table=ATTLOG", content=body.encode())
    assert r.status_code == 200
    row = await Punch.get(device__sn=dev.sn)
    assert row.reason == "not_on_project"
    assert row.person_id == stranger.person_id and row.member_id is None
    native = await make_device(world)
    results = await _send(client, native, punch("elsewhere", stranger.person_id))
    assert results == [("rejected", "not_on_project")]
    row = await Punch.get(device__sn=native.sn, device_punch_id="elsewhere")
    assert row.person_id == stranger.person_id


async def test_payload_keeps_no_id_number_in_clear_and_rotates(client, settings):
    world = await make_project()
    dev = await make_device(world)
    person, number, _ = await make_person(id_number=valid_id_number())
    member = await make_member(world, person=person)
    unknown = valid_id_number()
    now = dt.datetime.now(CST).replace(microsecond=0).isoformat()
    items = [
        {"id": "n1", "id_number": number.lower(), "time": now, "direction": "in", "liveness": True},
        {"id": "n2", "id_number": unknown, "time": now, "direction": "in", "liveness": True},
        {"id": "n3", "id_number": unknown, "time": "soon", "direction": "in", "liveness": True},
        {
            "id": "n4",
            "person_id": person.id,
            "time": now,
            "direction": "out",
            "liveness": True,
            "note": f"工人 {number}",
        },
        [unknown, "not an object"],
    ]
    r = await upload(client, dev, items)
    results = [(x["status"], x.get("reason")) for x in r.json()["results"]]
    assert results == [
        ("accepted", None),
        ("rejected", "unknown_person"),
        ("rejected", "bad_field"),
        ("accepted", None),
        ("rejected", "bad_field"),
    ]
    rows = await Punch.filter(device__sn=dev.sn).order_by("id")
    assert len(rows) == 5
    c = pii.cipher()
    for row in rows:
        text = str(row.payload)
        assert number not in text.upper() and unknown not in text.upper()
    by_key = {row.device_punch_id: row for row in rows}
    n1 = by_key["n1"].payload
    assert n1["id_number_masked"] == pii.mask_id_number(number)
    assert n1["id_number_bidx"] == c.blind_index("id", number)
    assert c.decrypt(n1["id_number_enc"]) == number
    assert by_key["n1"].member_id == member.id
    assert c.decrypt(by_key["n2"].payload["id_number_enc"]) == unknown
    assert number in c.decrypt(by_key["n4"].payload["extra_enc"])
    raw = next(row for row in rows if row.device_punch_id.startswith("bad:"))
    assert unknown in c.decrypt(raw.payload["raw_enc"])
    # The same bad punch sent again is a duplicate (its key does not depend on the random nonce).
    r = await upload(client, dev, [items[2], items[4]])
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]

    # Key rotation re-encrypts the values inside the payloads too.
    new_key = "prot:" + base64.urlsafe_b64encode(b"p" * 32).decode()
    before = pii.cipher()
    try:
        rotated = pii.use(before.with_key(new_key))
        counts = await pii.rotate_all(batch=2)
        assert counts["punch"] >= 4
        only_new = PiiCipher(new_key, settings.blind_index_key)
        for row in await Punch.filter(device__sn=dev.sn):
            for key, value in row.payload.items():
                if key.endswith("_enc"):
                    assert value.startswith("prot$"), (row.device_punch_id, key)
                    assert only_new.decrypt(value)
        fresh = await Punch.get(device__sn=dev.sn, device_punch_id="n1")
        assert rotated.decrypt(fresh.payload["id_number_enc"]) == number
        assert fresh.payload["id_number_bidx"] == n1["id_number_bidx"]
    finally:
        # Back to the session's key for every value, so later tests need no extra key.
        pii.use(before.with_key(new_key, active=False))
        await pii.rotate_all()
        pii.use(before)
    assert (
        c.decrypt(
            (await Punch.get(device__sn=dev.sn, device_punch_id="n1")).payload["id_number_enc"]
        )
        == number
    )

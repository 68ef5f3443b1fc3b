"""The native protocol as terminals send it: one captured request body per case, in
``devices/native/fixtures/`` (its README lists them), sent signed to the real endpoints.

Each body is a template: member ids, ID numbers and days are filled in here, since punches must
fall on plausible days of members who exist. What every case must answer is written out below,
so a change of the wire contract shows up as a failing case, not as a silently different reply.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from models import DailyAttendance, DayState, Person, Punch, PunchStatus
from services import attendance, pii
from tests.devices.helpers import JPEG, call, device_world, make_device, valid_id_number
from tests.factories import make_member, make_person, make_phone, make_project, site_today

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CST = dt.timezone(dt.timedelta(hours=8))


def body(name: str, **values: Any) -> dict[str, Any]:
    """The captured body `name` with its placeholders filled in, parsed (it must be JSON then)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return json.loads(text)


def days_ago(n: int) -> dt.date:
    return site_today() - dt.timedelta(days=n)


def at(day: dt.date, hh: int, mm: int, ss: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm, ss), CST)


async def punches(client, dev, payload: dict[str, Any]) -> list[dict[str, Any]]:
    r = await call(client, dev, "POST", "/device/v1/punches", payload)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_every_fixture_is_listed_and_every_listed_file_exists() -> None:
    listed = {
        line.split("`")[1]
        for line in (FIXTURES / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    assert listed == {p.name for p in FIXTURES.glob("*.json")}


async def test_heartbeat(client):
    dev = await make_device(await make_project())
    r = await call(client, dev, "POST", "/device/v1/heartbeat", body("heartbeat.json"))
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["commands"] == []
    assert reply["server_time"].endswith("+08:00")  # the device's zone, not UTC
    moment = dt.datetime.fromisoformat(reply["server_time"])
    assert abs(moment.timestamp() - reply["server_timestamp"]) < 1


async def test_a_gate_terminals_day_settles_and_a_retry_stores_nothing_twice(client):
    _, dev, member = await device_world()
    day = days_ago(1)
    payload = body(
        "punches_gate_day.json", person_id=member.person_id, day=day, day_compact=f"{day:%Y%m%d}"
    )
    results = await punches(client, dev, payload)
    ids = [p["id"] for p in payload["punches"]]
    assert results == [{"id": i, "status": "accepted"} for i in ids]
    await attendance.wait_pending()
    settled = await DailyAttendance.get(member_id=member.id, day=day)
    assert settled.state == DayState.NORMAL
    assert settled.first_in == at(day, 7, 58, 12) and settled.last_out == at(day, 18, 2, 55)
    assert settled.duration_seconds == 10 * 3600 + 4 * 60 + 43
    # the terminal did not hear the reply and sends the same upload again (new nonce)
    results = await punches(client, dev, payload)
    assert results == [{"id": i, "status": "duplicate"} for i in ids]
    assert await Punch.filter(device__sn=dev.sn).count() == 4


async def test_a_handset_naming_workers_by_id_number_in_utc(client):
    world = await make_project()
    dev = await make_device(world, kind="mobile")
    person, number, _ = await make_person(id_number=valid_id_number())
    member = await make_member(world, person=person)
    day = days_ago(1)
    results = await punches(
        client, dev, body("punches_handset_id_number.json", id_number=number, day=day)
    )
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    rows = await Punch.filter(device__sn=dev.sn).order_by("time")
    # 00:05:31Z and 09:31:07Z are 08:05:31 and 17:31:07 on the site: one day, the project's
    assert [r.time for r in rows] == [at(day, 8, 5, 31), at(day, 17, 31, 7)]
    assert {r.local_date for r in rows} == {day} and {r.member_id for r in rows} == {member.id}
    assert (rows[0].lat, rows[0].lng) == (36.6171, 101.7782)
    for row in rows:  # rule 11: the ID number is kept masked, indexed and encrypted only
        assert row.payload is not None
        assert number not in json.dumps(row.payload, ensure_ascii=False)
        assert row.payload["id_number_masked"] == pii.mask_id_number(number)


async def test_an_offline_handsets_late_upload_keeps_its_real_time(client):
    _, dev, member = await device_world("mobile", entry_date=days_ago(30))
    old = days_ago(12)
    results = await punches(
        client, dev, body("punches_offline_handset.json", person_id=member.person_id, old_day=old)
    )
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    await attendance.wait_pending()
    settled = await DailyAttendance.get(member_id=member.id, day=old)
    assert (settled.first_in, settled.last_out) == (at(old, 8, 11, 0), at(old, 17, 45, 30))
    assert settled.state == DayState.NORMAL


async def test_a_punch_photo_goes_to_the_file_store(client, app):
    _, dev, member = await device_world()
    results = await punches(
        client, dev, body("punches_photo.json", person_id=member.person_id, day=days_ago(1))
    )
    assert results == [{"id": "cam-2-88412", "status": "accepted"}]
    row = await Punch.get(device__sn=dev.sn, device_punch_id="cam-2-88412")
    assert row.photo_key and await app.ctx.files.get(row.photo_key) == JPEG
    assert row.payload is not None and row.payload["photo"] == "<omitted>"


async def test_each_rejection_has_its_reason_and_is_kept(client):
    _, dev, member = await device_world()
    elsewhere = await make_member(await make_project())
    results = await punches(
        client,
        dev,
        body(
            "punches_rejected.json",
            person_id=member.person_id,
            other_person_id=elsewhere.person_id,
            stranger_id_number=valid_id_number(),
            day=days_ago(1),
        ),
    )
    assert [(r["id"], r["status"], r.get("reason"), r.get("field")) for r in results] == [
        ("r-direction", "rejected", "bad_field", "direction"),
        ("r-no-offset", "rejected", "bad_field", "time"),
        ("r-no-liveness", "rejected", "no_liveness", None),
        ("r-stranger", "rejected", "unknown_person", None),
        ("r-other-project", "rejected", "not_on_project", None),
        ("r-future", "rejected", "time_in_future", None),
        ("r-year-one", "rejected", "time_out_of_range", None),
        ("r-photo", "rejected", "bad_field", "photo"),
    ]
    kept = await Punch.filter(device__sn=dev.sn).values_list("status", flat=True)
    assert list(kept) == [PunchStatus.REJECTED] * 8  # stored for diagnosis
    assert not await DailyAttendance.filter(member_id=member.id).exists()


async def test_a_collection_machine_enrols_then_recaptures_the_face(client):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    number = valid_id_number()
    enrolment = body(
        "enrolment.json",
        id_number=number,
        gender=pii.id_gender(number),
        birth_date=pii.id_birth_date(number).isoformat(),
        unit_credit_code=world.enterprises["gc"].credit_code,
        team_id=world.team.id,
        phone=make_phone(),
    )
    r = await call(client, dev, "POST", "/device/v1/enrolments", enrolment)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["created"] is True
    person = await Person.get(id=created["person_id"])
    assert person.name == "马海军" and person.face_sha256 == created["face_sha256"]
    assert person.face_sha256 == hashlib.sha256(JPEG).hexdigest()

    recapture = body("enrolment_recapture.json", id_number=number)
    r = await call(client, dev, "POST", "/device/v1/enrolments", recapture)
    assert r.status_code == 200, r.text
    assert r.json()["created"] is False
    after = await Person.get(id=person.id)
    face = base64.b64decode(recapture["face"])
    assert after.face_sha256 == hashlib.sha256(face).hexdigest() != person.face_sha256
    assert after.name == person.name  # only the face changes

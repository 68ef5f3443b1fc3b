"""Enrolment from collection machines, person delta sync, face download and upload."""

from __future__ import annotations

import datetime as dt

import pytest

from models import Person, ProjectMember
from services import pii
from services.sync import mark_members_changed
from tests.devices.helpers import JPEG, JPEG_B64, call, make_device, valid_id_number
from tests.factories import make_member, make_phone, make_project

PNG_FACE = JPEG_B64


def enrol_body(world, number: str | None = None, **over):
    number = number or valid_id_number()
    body = {
        "id_number": number,
        "name": "张三",
        "gender": pii.id_gender(number),
        "ethnicity": "汉",
        "birth_date": pii.id_birth_date(number).isoformat(),
        "address": "青海省西宁市城中区",
        "issuer": "西宁市公安局城中分局",
        "valid_from": "2020-01-01",
        "valid_to": "长期",
        "id_photo": JPEG_B64,
        "face": PNG_FACE,
        "liveness": True,
        "person_type": "labour",
        "unit_credit_code": world.enterprises["gc"].credit_code,
        "team_id": world.team.id,
        "work_type": "钢筋工",
        "phone": make_phone(),
    }
    body.update(over)
    return body


async def test_enrolment_creates_person_and_member(client):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    body = enrol_body(world)
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["created"] is True and data["pin"] == str(data["member_id"])
    person = await Person.get(id=data["person_id"])
    assert person.id_number_masked.startswith(body["id_number"][:6]) and person.face_sha256
    assert pii.cipher().decrypt(person.id_number_enc) == body["id_number"]
    member = await ProjectMember.get(id=data["member_id"])
    assert member.team_id == world.team.id and member.work_type == "钢筋工"
    # the same person again on the same project: updated, not duplicated
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 200 and r.json()["created"] is False
    assert r.json()["member_id"] == data["member_id"]


async def test_management_enrolment_needs_post(client):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    body = enrol_body(
        world,
        person_type="management",
        team_id=None,
        work_type=None,
        unit_credit_code=world.enterprises["supervisor"].credit_code,
    )
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 422 and r.json()["field"] == "post"
    body["post"] = "chief_supervisor"
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "field,value",
    [
        ("id_number", "630102198001011234"),
        ("name", ""),
        ("ethnicity", None),
        ("address", ""),
        ("issuer", ""),
        ("valid_from", "someday"),
        ("id_photo", "!!notbase64"),
        ("face", None),
        ("liveness", False),
        ("person_type", "boss"),
        ("unit_credit_code", None),
        ("team_id", None),
        ("work_type", ""),
        ("phone", "12345"),
        ("gender", "X"),
    ],
)
async def test_enrolment_validation_names_the_field(client, field, value):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    r = await call(
        client, dev, "POST", "/device/v1/enrolments", enrol_body(world, **{field: value})
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


async def test_enrolment_unit_and_team_must_be_of_the_project(client):
    world, other = await make_project(), await make_project()
    dev = await make_device(world, kind="collection")
    r = await call(
        client,
        dev,
        "POST",
        "/device/v1/enrolments",
        enrol_body(world, unit_credit_code=other.enterprises["gc"].credit_code),
    )
    assert r.status_code == 422 and r.json()["code"] == "unit_not_on_project"
    r = await call(
        client, dev, "POST", "/device/v1/enrolments", enrol_body(world, team_id=other.team.id)
    )
    assert r.status_code == 422 and r.json()["field"] == "team_id"


async def test_attendance_terminal_cannot_enrol(client):
    world = await make_project()
    dev = await make_device(world, kind="attendance")
    r = await call(client, dev, "POST", "/device/v1/enrolments", enrol_body(world))
    assert r.status_code == 403 and r.json()["code"] == "wrong_device_kind"


async def test_recapture_replaces_only_the_face(client):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    body = enrol_body(world)
    first = (await call(client, dev, "POST", "/device/v1/enrolments", body)).json()
    before = await Person.get(id=first["person_id"])
    new_face = JPEG[:-2] + b"\x01\x02\xff\xd9"
    import base64

    r = await call(
        client,
        dev,
        "POST",
        "/device/v1/enrolments",
        {
            "recapture": True,
            "id_number": body["id_number"],
            "liveness": True,
            "face": base64.b64encode(new_face).decode(),
            "name": "改名无效",
        },
    )
    assert r.status_code == 200, r.text
    after = await Person.get(id=first["person_id"])
    assert after.face_sha256 != before.face_sha256 and after.name == before.name
    r = await call(
        client,
        dev,
        "POST",
        "/device/v1/enrolments",
        {"recapture": True, "id_number": valid_id_number(), "liveness": True, "face": JPEG_B64},
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_person"


async def test_person_delta_sync_and_face_download(client):
    world = await make_project()
    collector = await make_device(world, kind="collection")
    terminal = await make_device(world)
    data = (
        await call(client, collector, "POST", "/device/v1/enrolments", enrol_body(world))
    ).json()
    plain = await make_member(world)  # no face yet
    r = await call(client, terminal, "GET", "/device/v1/persons")
    body = r.json()
    entries = {p["pin"]: p for p in body["persons"]}
    assert str(data["member_id"]) in entries and str(plain.id) in entries
    mine = entries[str(data["member_id"])]
    assert mine["active"] is True and mine["face_sha256"] == data["face_sha256"]
    assert entries[str(plain.id)]["active"] is False  # nothing to recognise without a face
    r = await call(client, terminal, "GET", mine["face_url"])
    assert r.status_code == 200 and r.content.startswith(b"\xff\xd8")
    # nothing changed: the next delta (past the safety window) is empty
    cursor = body["cursor"]
    version, _, _ = cursor.partition(".")
    await ProjectMember.filter(project_id=world.project.id).update(sync_version=1)
    r = await call(client, terminal, "GET", "/device/v1/persons?cursor=2.0")
    assert r.json()["persons"] == []
    # a member leaves: the next delta carries active=false
    await ProjectMember.filter(id=data["member_id"]).update(work_status="left")
    await mark_members_changed([data["member_id"]])
    r = await call(client, terminal, "GET", "/device/v1/persons?cursor=2.0")
    gone = [p for p in r.json()["persons"] if p["pin"] == str(data["member_id"])]
    assert gone and gone[0]["active"] is False
    assert int(version) > 0
    # another project's device cannot download this face
    stranger = await make_device(await make_project())
    r = await call(client, stranger, "GET", mine["face_url"])
    assert r.status_code == 404


async def test_persons_paging(client):
    world = await make_project()
    terminal = await make_device(world)
    members = [await make_member(world) for _ in range(5)]
    from services import enrolment

    rows, cursor, more = await enrolment.person_delta(world.project.id, None, limit=3)
    assert len(rows) == 3 and more is True
    rows2, _, more2 = await enrolment.person_delta(world.project.id, cursor, limit=3)
    assert {m.id for m, _ in rows} | {m.id for m, _ in rows2} == {m.id for m in members}
    assert more2 is False
    assert terminal


async def test_faces_upload(client):
    world = await make_project()
    terminal = await make_device(world)
    member = await make_member(world)
    outsider = await make_member(await make_project())
    r = await call(
        client,
        terminal,
        "POST",
        "/device/v1/faces",
        {
            "faces": [
                {"person_id": member.person_id, "face": JPEG_B64},
                {"person_id": outsider.person_id, "face": JPEG_B64},
            ]
        },
    )
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "rejected"]
    person = await Person.get(id=member.person_id)
    assert person.face_sha256 and person.face_captured_at <= dt.datetime.now(dt.UTC)
    r = await call(
        client,
        terminal,
        "POST",
        "/device/v1/faces",
        {"faces": [{"person_id": member.person_id, "face": "%%%"}]},
    )
    assert r.status_code == 422 and r.json()["field"] == "faces[0].face"

"""Project roster (项目花名册): filters, export read back with openpyxl, terminals, face photos."""

import datetime as dt
import io

import openpyxl

from models import AuditLog, DeviceCommand, Person, PersonType, Post
from services import devices, pii
from services.schemas.roster import RosterPage
from tests import factories
from tests.factories import auth, site_today
from tests.labour.helpers import CARD, PNG, headers_for
from tests.suite import uid


def base(world) -> str:
    return f"/admin/v1/projects/{world.project.code}"


async def _world_with_people():
    world = await factories.make_project()
    today = site_today()
    woman, w_num, w_phone = await factories.make_person(
        name=uid("李"), id_number=factories.make_id_number(male=False)
    )
    man, m_num, m_phone = await factories.make_person(name=uid("王"))
    await Person.filter(id=man.id).update(face_key="faces/x.png")
    a = await factories.make_member(world, person=woman, entry_date=today - dt.timedelta(days=20))
    b = await factories.make_member(
        world,
        person=man,
        person_type=PersonType.MANAGEMENT,
        post=Post.LABOUR_OFFICER,
        entry_date=today - dt.timedelta(days=2),
    )
    return world, (a, woman, w_num, w_phone), (b, man, m_num, m_phone)


async def test_roster_filters_and_missing_face_notice(client, redis):
    world, (a, woman, w_num, _), (b, man, m_num, _) = await _world_with_people()
    h = await headers_for(redis, world, "gc")
    today = site_today()
    r = await client.get(f"{base(world)}/roster", headers=h)
    body = r.json()
    assert body["total"] == 2 and body["missing_face_count"] == 1
    assert body["notice"] == "缺失照片人员请使用实名制采集机重新采集人员实名制信息"
    rows = {row["id"]: row for row in body["data"]}
    assert rows[a.id]["face_missing"] is True and rows[b.id]["face_missing"] is False
    RosterPage.model_validate_json(r.content, strict=True)  # the declared reply the console types
    cases = [
        ({"name": woman.name[:3]}, {a.id}),
        ({"id_number": m_num}, {b.id}),
        ({"id_number": m_num.lower()}, {b.id}),
        ({"gender": "女"}, {a.id}),
        ({"person_type": "management"}, {b.id}),
        ({"entry_from": str(today - dt.timedelta(days=5))}, {b.id}),
        ({"entry_to": str(today - dt.timedelta(days=5))}, {a.id}),
    ]
    for params, expected in cases:
        r = await client.get(f"{base(world)}/roster", headers=h, params=params)
        assert {row["id"] for row in r.json()["data"]} == expected, params
    for params, field in (
        ({"gender": "x"}, "gender"),
        ({"person_type": "boss"}, "person_type"),
        ({"entry_from": "2026-02-30"}, "entry_from"),
        ({"entry_from": "2026-05-01", "entry_to": "2026-04-01"}, "entry_to"),
    ):
        r = await client.get(f"{base(world)}/roster", headers=h, params=params)
        assert r.status_code == 422 and r.json()["field"] == field
    r = await client.get(f"{base(world)}/roster?page=2&page_size=1", headers=h)
    assert r.json()["data"][0]["seq"] == 2


async def test_roster_export_read_back_full_for_gc(client, redis):
    world, (a, woman, w_num, w_phone), _ = await _world_with_people()
    h = await headers_for(redis, world, "gc")
    r = await client.get(f"{base(world)}/roster/export", headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    ws = wb.active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:6] == ("序号", "姓名", "性别", "身份证号", "手机号", "人员类型")
    assert len(values) == 3
    row = [v for v in values[1:] if v[1] == woman.name][0]
    assert row[3] == w_num and row[4] == w_phone and row[13] == CARD
    assert row[2] == "女" and row[5] == "劳务人员" and row[15] == "缺失"
    log = await AuditLog.filter(action="roster.export", project_id=world.project.id).first()
    assert log.detail["rows"] == 2 and log.detail["masked"] is False
    assert w_num not in str(log.detail)


async def test_roster_export_masked_for_builder(client, redis):
    world, (a, woman, w_num, w_phone), _ = await _world_with_people()
    for role in ("builder", "supervisor"):
        h = await headers_for(redis, world, role)
        r = await client.get(f"{base(world)}/roster/export", headers=h, params={"gender": "女"})
        wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
        values = list(wb.active.iter_rows(values_only=True))
        assert len(values) == 2
        row = values[1]
        assert row[3] == pii.mask_id_number(w_num) and row[4] == pii.mask_phone(w_phone)
        assert row[13] == pii.mask_bank_card(CARD)
        r = await client.get(f"{base(world)}/roster", headers=h)
        assert all("*" in row["id_number"] for row in r.json()["data"])
    log = (
        await AuditLog.filter(action="roster.export", project_id=world.project.id)
        .order_by("-id")
        .first()
    )
    assert log.detail["masked"] is True and log.detail["filters"] == ["gender"]


async def test_push_personnel_and_face_resync(client, redis):
    world, (a, woman, *_), (b, man, *_) = await _world_with_people()
    h = await headers_for(redis, world, "gc")
    r = await client.post(f"{base(world)}/roster/push", headers=h)
    assert r.status_code == 409
    assert r.json()["message"] == "本项目未绑定考勤设备，请先在设备管理中绑定设备"
    t1, _ = await devices.register_device(
        world.project, kind="attendance", sn=uid("SN"), manufacturer="m", model="x"
    )
    t2, _ = await devices.register_device(
        world.project, kind="mobile", sn=uid("SN"), manufacturer="m", model="x"
    )
    await devices.register_device(
        world.project, kind="collection", sn=uid("SN"), manufacturer="m", model="x"
    )
    r = await client.post(f"{base(world)}/roster/push", headers=h)
    assert r.status_code == 200 and r.json()["devices"] == 2
    cmds = await DeviceCommand.filter(device_id__in=[t1.id, t2.id], type="sync_persons")
    assert len(cmds) == 2
    r = await client.post(f"{base(world)}/roster/push", headers=h)  # no duplicate pending
    assert (
        await DeviceCommand.filter(device_id__in=[t1.id, t2.id], type="sync_persons").count() == 2
    )
    r = await client.post(f"{base(world)}/roster/{a.id}/face-sync", headers=h)
    assert r.status_code == 200 and r.json()["devices"] == 2
    cmd = await DeviceCommand.filter(device_id=t1.id, type="upload_faces").first()
    assert cmd.params["person_ids"] == [woman.id]
    # the builder can view but not push
    bh = await headers_for(redis, world, "builder")
    r = await client.post(f"{base(world)}/roster/push", headers=bh)
    assert r.status_code == 403 and r.json()["message"] == "仅总包单位可向考勤设备下发人员"
    r = await client.post(f"{base(world)}/roster/{a.id}/face-sync", headers=bh)
    assert r.status_code == 403


async def test_face_photo_only_with_view_pii(client, redis, app):
    world, _, (b, man, *_) = await _world_with_people()
    key = await app.ctx.files.put(PNG, prefix="faces", suffix=".png", content_type="image/png")
    await Person.filter(id=man.id).update(face_key=key)
    h = await headers_for(redis, world, "gc")
    r = await client.get(f"{base(world)}/roster/{b.id}/face", headers=h)
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    bh = await headers_for(redis, world, "builder")
    r = await client.get(f"{base(world)}/roster/{b.id}/face", headers=bh)
    assert r.status_code == 403
    # the store lost the photo: a 404 saying so, not a server error
    await app.ctx.files.delete(key)
    r = await client.get(f"{base(world)}/roster/{b.id}/face", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "face_missing"


async def test_roster_cross_project_and_company(client, redis):
    world, (a, *_), _ = await _world_with_people()
    stranger = auth(await factories.enterprise_token(redis, await factories.make_enterprise()))
    for method, path in (
        ("GET", "/roster"),
        ("GET", "/roster/export"),
        ("POST", "/roster/push"),
        ("POST", f"/roster/{a.id}/face-sync"),
    ):
        r = await client.request(method, f"{base(world)}{path}", headers=stranger)
        assert r.status_code == 404, path
    other = await factories.make_project()
    oh = await headers_for(redis, other, "gc")
    r = await client.post(
        f"/admin/v1/projects/{other.project.code}/roster/{a.id}/face-sync", headers=oh
    )
    assert r.status_code == 404
    r = await client.get(f"/admin/v1/projects/{other.project.code}/roster", headers=oh)
    assert r.json()["total"] == 0


async def test_file_endpoint_rules(client, redis, app):
    from services.files import save_upload

    world = await factories.make_project()
    face = await save_upload(
        app.ctx.files, PNG, "face.png", project_id=world.project.id, purpose="face"
    )
    gc = await headers_for(redis, world, "gc")
    r = await client.get(f"{base(world)}/files/{face.id}", headers=gc)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["content-disposition"].endswith("filename*=UTF-8''face.png")
    bh = await headers_for(redis, world, "builder")
    r = await client.get(f"{base(world)}/files/{face.id}", headers=bh)
    assert r.status_code == 403 and r.json()["message"] == "无权查看人员照片"
    r = await client.get(f"{base(world)}/files/999999999", headers=gc)
    assert r.status_code == 404 and r.json()["code"] == "file_not_found"
    unowned = await save_upload(app.ctx.files, PNG, "x.png", project_id=None, purpose="misc")
    r = await client.get(f"{base(world)}/files/{unowned.id}", headers=gc)
    assert r.status_code == 404
    r = await client.get(f"{base(world)}/files/{face.id}")
    assert r.status_code == 401
    await app.ctx.files.delete(face.key)  # the record stays, the store lost the bytes
    r = await client.get(f"{base(world)}/files/{face.id}", headers=gc)
    assert r.status_code == 404 and r.json()["code"] == "file_missing"

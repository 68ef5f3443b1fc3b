"""The project audit log (操作日志): who may read it, filters, export, and the events it records
that were missing (supplementary attendance, device presence, bulk pushes, CLI registration)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from models import Account, AuditLog, Device
from services import accounts, localtime
from services import devices as device_service
from tests.attendance.test_supplement import _chain_world, _decide, _file
from tests.devices.helpers import call, make_device
from tests.devices.test_cli import register_attendance_device
from tests.factories import (
    auth,
    enterprise_token,
    make_contract,
    make_enterprise,
    make_member,
    make_person,
    make_project,
    person_token,
    regulator_token,
    token_for,
)
from tests.labour.helpers import add_subcontractor
from tests.suite import uid

CST = dt.timezone(dt.timedelta(hours=8))


def url(world, suffix: str = "") -> str:
    return f"/admin/v1/projects/{world.project.code}/audit{suffix}"


async def _entry(world, action: str, at: dt.datetime | None = None, **kw) -> AuditLog:
    row = await AuditLog.create(action=action, project_id=world.project.id, **kw)
    if at is not None:  # `at` is set on insert; move it for the date filters
        await AuditLog.filter(id=row.id).update(at=at)
    return row


async def _account_id(kind: str, **filters) -> str:
    return str((await Account.get(kind=kind, **filters)).id)


async def test_who_may_read_the_log(client, redis):
    world = await make_project(region="630102")
    await _entry(world, "team.create", target="team:1")
    sub = await add_subcontractor(world)
    sub_token = await enterprise_token(redis, world.enterprises[f"sub_{sub.enterprise_id}"])
    readers = {
        "gc": await enterprise_token(redis, world.enterprises["gc"]),
        "builder": await enterprise_token(redis, world.enterprises["builder"]),
        "supervisor": await enterprise_token(redis, world.enterprises["supervisor"]),
        "sub": sub_token,
        "county": await regulator_token(redis, "630102"),
        "city": await regulator_token(redis, "630100"),
        "province": await regulator_token(redis, "630000"),
    }
    for who, token in readers.items():
        r = await client.get(url(world), headers=auth(token))
        assert r.status_code == 200, (who, r.text)
        assert r.json()["total"] >= (0 if who == "sub" else 1), who
    pm_person, _, _ = await make_person()
    await make_member(world, person=pm_person, person_type="management", post="project_manager")
    refused = {
        "post personnel": await person_token(redis, pm_person),
        "operator": await token_for(redis, await accounts.operator_account(uid("op"))),
    }
    for who, token in refused.items():
        for suffix in ("", "/export"):
            r = await client.get(url(world, suffix), headers=auth(token))
            assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind", who
    # no standing on the project at all: not found, as for every project screen
    for token in (
        await regulator_token(redis, "632521"),
        await enterprise_token(redis, await make_enterprise()),
    ):
        r = await client.get(url(world), headers=auth(token))
        assert r.status_code == 404
    r = await client.get(url(world))
    assert r.status_code == 401


async def test_subcontractor_sees_its_own_side_only(client, redis):
    world = await make_project()
    sub = await add_subcontractor(world)
    sub_ent = world.enterprises[f"sub_{sub.enterprise_id}"]
    sub_token = await enterprise_token(redis, sub_ent)
    gc_token = await enterprise_token(redis, world.enterprises["gc"])
    staff, _, _ = await make_person()
    await make_member(
        world, person=staff, person_type="management", post="labour_officer", unit=sub
    )
    await person_token(redis, staff)
    own = await _entry(
        world,
        "team.create",
        actor_kind="enterprise",
        actor_id=await _account_id("enterprise", enterprise_id=sub_ent.id),
    )
    by_staff = await _entry(
        world,
        "member.add",
        actor_kind="person",
        actor_id=await _account_id("person", person_id=staff.id),
    )
    gc_entry = await _entry(
        world,
        "team.create",
        actor_kind="enterprise",
        actor_id=await _account_id("enterprise", enterprise_id=world.enterprises["gc"].id),
    )
    r = await client.get(url(world), headers=auth(sub_token))
    assert {e["id"] for e in r.json()["data"]} == {own.id, by_staff.id}
    r = await client.get(url(world), headers=auth(gc_token))
    assert {own.id, by_staff.id, gc_entry.id} <= {e["id"] for e in r.json()["data"]}


async def test_filters_columns_and_export(client, redis):
    world = await make_project()
    gc = await enterprise_token(redis, world.enterprises["gc"])
    gc_account = await _account_id("enterprise", enterprise_id=world.enterprises["gc"].id)
    worker_person, worker_id_number, _ = await make_person(name=uid("王"))
    worker = await make_member(world, person=worker_person)
    other = await make_member(world)
    # 07:34 on 1 Nov in Qinghai is 23:34 UTC on 31 Oct
    early = dt.datetime(2026, 10, 31, 23, 34, tzinfo=dt.UTC)
    about_worker = await _entry(
        world,
        "member.update",
        at=early,
        actor_kind="enterprise",
        actor_id=gc_account,
        target=f"member:{worker.id}",
        ip="10.1.2.3",
    )
    export = await _entry(
        world,
        "roster.export",
        at=early + dt.timedelta(days=2),
        actor_kind="enterprise",
        actor_id=gc_account,
        target=f"project:{world.project.code}",
        detail={"rows": 3, "masked": True},
    )
    about_other = await _entry(
        world,
        "member.exit",
        at=early - dt.timedelta(days=1),
        actor_kind="enterprise",
        actor_id=gc_account,
        target=f"member:{other.id}",
    )

    async def ids(**params) -> list[int]:
        r = await client.get(url(world), params=params, headers=auth(gc))
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()["data"]]

    assert await ids() == [about_other.id, export.id, about_worker.id]  # newest entry first
    assert await ids(action="member.update") == [about_worker.id]
    assert set(await ids(action="member.")) == {about_worker.id, about_other.id}
    assert set(await ids(action="member.exit,roster.export")) == {about_other.id, export.id}
    assert await ids(person=worker_person.name) == [about_worker.id]
    assert await ids(person=worker_id_number) == [about_worker.id]  # exact, by blind index
    assert await ids(person=worker_id_number.lower()) == [about_worker.id]
    assert await ids(person="没有这个人") == []
    assert await ids(date_from="2026-11-01", date_to="2026-11-01") == [about_worker.id]
    assert await ids(date_to="2026-10-31") == [about_other.id]
    assert set(await ids(date_from="2026-11-01")) == {about_worker.id, export.id}

    for params, field in (
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "2026-11-02", "date_to": "2026-11-01"}, "date_to"),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, "date_from"),
        ({"date_to": "9999-12-31"}, "date_to"),
    ):
        r = await client.get(url(world), params=params, headers=auth(gc))
        assert r.status_code == 422 and r.json()["field"] == field, params
    r = await client.get(url(world) + "?person=%ED%A0%80", headers=auth(gc))  # a lone surrogate
    assert r.status_code in (200, 422), r.text

    r = await client.get(url(world), params={"action": "member.update"}, headers=auth(gc))
    (row,) = r.json()["data"]
    assert row["actor_name"] == world.enterprises["gc"].name
    assert row["actor_role"] == "企业管理员（施工总承包单位）" and row["action_label"] == "编辑人员"
    assert row["target_label"] == f"人员 {worker_person.name}"
    assert row["at"] == "2026-11-01T07:34:00+08:00" and row["ip"] == "10.1.2.3"
    assert row["masked"] is None and row["masked_label"] == ""
    r = await client.get(url(world), params={"action": "roster.export"}, headers=auth(gc))
    assert r.json()["data"][0]["masked"] is True and r.json()["data"][0]["masked_label"] == "是"

    r = await client.get(
        url(world, "/export"), params={"date_from": "2026-11-01"}, headers=auth(gc)
    )
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header == ("操作人", "角色", "操作", "对象", "是否脱敏", "时间", "IP")
    assert [r[2] for r in rows] == ["导出花名册", "编辑人员"]
    assert rows[0][4] == "是" and rows[0][1] == "企业管理员（施工总承包单位）"
    assert rows[1][3] == f"人员 {worker_person.name}" and rows[1][6] == "10.1.2.3"
    assert rows[1][5] == dt.datetime(2026, 11, 1, 7, 34)  # a local time cell, no microseconds
    logged = await AuditLog.filter(project=world.project, action="audit.export").get()
    assert logged.actor_id == gc_account and logged.detail["rows"] == 2
    assert logged.detail["filters"] == ["date_from"]
    assert worker_id_number not in str(logged.detail)


async def test_supplementary_attendance_is_audited(client, redis):
    world, _, people = await _chain_world()
    worker = await make_member(world, entry_date=dt.date(2026, 10, 1))
    await make_contract(worker)
    r = await _file(client, redis, world, worker, date="2026-11-02")
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (await _decide(client, redis, world, people["lo"], rid)).status_code == 200
    r = await _decide(client, redis, world, people["pm"], rid, approve=False, comment="时间不符")
    assert r.status_code == 200, r.text
    gc = await enterprise_token(redis, world.enterprises["gc"])
    r = await client.get(url(world), params={"action": "supplement."}, headers=auth(gc))
    rows = r.json()["data"]
    assert [e["action"] for e in rows] == [
        "supplement.reject",
        "supplement.approve",
        "supplement.file",
    ]
    assert [e["actor_name"] for e in rows[:2]] == [people["pm"].name, people["lo"].name]
    assert [e["actor_role"] for e in rows] == [
        "岗位人员（项目经理）",
        "岗位人员（劳务员）",
        "企业管理员（施工总承包单位）",
    ]
    assert {e["target_label"] for e in rows} == {f"人员 {(await worker.person).name}"}
    assert rows[0]["detail"]["request_id"] == rid and rows[0]["detail"]["node"]
    assert all(e["ip"] == "127.0.0.1" for e in rows)


async def test_device_presence_transitions_are_audited_once(client, redis):
    world = await make_project()
    dev = await make_device(world)
    device = await Device.get(sn=dev.sn)

    async def presence() -> list[str]:
        return list(
            await AuditLog.filter(target=dev.sn, action__in=["device.online", "device.offline"])
            .order_by("id")
            .values_list("action", flat=True)
        )

    for _ in range(3):
        r = await call(client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.0"})
        assert r.status_code == 200, r.text
    assert await presence() == ["device.online"]  # contacts are not audited, the transition is
    await device_service.sweep_presence()  # (other tests' quiet devices may be swept too)
    assert await presence() == ["device.online"]  # still online

    # Silent for ten minutes: the sweep records it offline, once.
    quiet = localtime.now() - dt.timedelta(minutes=10)
    await Device.filter(id=device.id).update(last_attendance_at=quiet)
    assert await device_service.sweep_presence() >= 1
    await device_service.sweep_presence()
    assert await presence() == ["device.online", "device.offline"]
    assert not (await Device.get(id=device.id)).online_recorded
    offline = await AuditLog.filter(target=dev.sn, action="device.offline").get()
    assert offline.project_id == world.project.id and offline.actor_kind == "device"
    assert offline.detail["last_contact"] == localtime.iso(quiet, localtime.zone("Asia/Shanghai"))

    # Heard from again: online again (the 10 s write coalescing does not hide it).
    device_service.forget_all()
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.0"})
    assert r.status_code == 200
    assert await presence() == ["device.online", "device.offline", "device.online"]
    gc = await enterprise_token(redis, world.enterprises["gc"])
    r = await client.get(url(world), params={"action": "device.offline"}, headers=auth(gc))
    (row,) = r.json()["data"]
    assert row["actor_name"] == f"设备 {dev.sn}" and row["action_label"] == "设备离线"


async def test_bulk_push_and_restore_online_are_audited(client, redis):
    world = await make_project()
    dev = await make_device(world)
    gc = await enterprise_token(redis, world.enterprises["gc"])
    base = f"/admin/v1/projects/{world.project.code}/devices"
    r = await client.post(f"{base}/push-persons", json={"full": True}, headers=auth(gc))
    assert r.status_code == 200 and r.json()["queued"] == 1
    r = await client.post(f"{base}/{dev.sn}/online", headers=auth(gc))
    assert r.status_code == 200
    pushed = await AuditLog.get(project=world.project, action="device.push_persons")
    assert pushed.detail == {"devices": 1, "full": True} and pushed.actor_kind == "enterprise"
    assert await AuditLog.filter(
        project=world.project, action="device.restore_online", target=dev.sn
    ).exists()


async def test_cli_device_registration_is_audited(settings, database):
    world = await make_project()
    sn = uid("CLI")
    out = register_attendance_device(settings, world.project.code, sn)
    assert out.returncode == 0, out.stderr
    entry = await AuditLog.get(action="device.register", target=sn)
    assert entry.project_id == world.project.id and entry.actor_kind == "cli"
    assert entry.detail["via"] == "cli" and "secret" not in str(entry.detail)

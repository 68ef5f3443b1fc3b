"""Commands (delivery, acks, retries, timeouts) and the admin device API."""

from __future__ import annotations

import datetime as dt

from models import (
    Account,
    AccountKind,
    AuditLog,
    CommandStatus,
    Device,
    DeviceCommand,
    UpgradeStatus,
)
from services import devices as svc
from tests.devices.helpers import DEVICE_LIST_COLUMNS, call, heartbeat, make_device
from tests.factories import auth, enterprise_token, make_project, regulator_token, token_for
from tests.suite import uid

SHA = "a" * 64


async def _admin(redis, world):
    return auth(await enterprise_token(redis, world.enterprises["gc"]))


async def _managed_device(redis):
    """A project, its general contractor's headers and one registered device."""
    world = await make_project()
    return world, await _admin(redis, world), await make_device(world)


async def test_register_list_search_rotate_unbind(client, redis):
    world = await make_project()
    h = await _admin(redis, world)
    base = f"/admin/v1/projects/{world.project.code}/devices"
    sn = uid("ZK")
    r = await client.post(
        base,
        json={"kind": "attendance", "sn": sn, "manufacturer": "中控", "model": "SpeedFace"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    r = await client.post(base, json={"kind": "attendance", "sn": sn}, headers=h)
    assert r.status_code == 409
    r = await client.get(f"{base}?q=中控&kind=attendance", headers=h)
    row = r.json()["data"][0]
    for col in DEVICE_LIST_COLUMNS:
        assert col in row
    assert row["设备编码"] == sn and row["设备状态"] == "离线"
    from tests.devices.helpers import Dev

    dev = Dev(sn, secret, world)
    assert (await heartbeat(client, dev)).status_code == 200
    r = await client.get(f"{base}?manufacturer=中控", headers=h)
    assert r.json()["data"][0]["设备状态"] == "在线"
    r = await client.post(f"{base}/{sn}/secret", headers=h)
    new = r.json()["secret"]
    assert (await heartbeat(client, dev)).status_code == 401
    dev.secret = new
    assert (await heartbeat(client, dev)).status_code == 200
    r = await client.post(f"{base}/{sn}/unbind", headers=h)
    assert r.status_code == 200
    r = await heartbeat(client, dev)
    assert r.json()["code"] == "device_unbound"
    r = await client.post(f"{base}/bind", json={"sn": sn}, headers=h)
    assert r.status_code == 200
    assert (await heartbeat(client, dev)).status_code == 200
    # each change is audited on the project, by the enterprise that made it, with its address
    logged = await AuditLog.filter(
        target=sn,
        action__in=["device.register", "device.rotate_secret", "device.unbind", "device.bind"],
    ).order_by("id")
    assert [e.action for e in logged] == [
        "device.register",
        "device.rotate_secret",
        "device.unbind",
        "device.bind",
    ]
    assert {(e.project_id, e.actor_kind, e.actor_id) for e in logged} == {
        (world.project.id, "enterprise", logged[0].actor_id)
    }
    assert logged[0].actor_id and all(e.ip for e in logged)


async def test_other_enterprise_cannot_manage(client, redis):
    world, other = await make_project(), await make_project()
    h = await _admin(redis, other)
    r = await client.post(
        f"/admin/v1/projects/{world.project.code}/devices",
        json={"kind": "attendance", "sn": uid()},
        headers=h,
    )
    assert r.status_code in (403, 404)


async def _operator(redis):
    account = await Account.create(kind=AccountKind.OPERATOR, display_name="平台运维")
    return auth(await token_for(redis, account))


async def test_unregistered_devices_seen_by_operators_only(client, redis):
    world = await make_project()
    sn = uid("GHOST")
    await client.get(f"/iclock/cdata?SN={sn}")
    r = await client.get("/admin/v1/devices/unregistered", headers=await _admin(redis, world))
    assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind"  # serials, IPs
    r = await client.get("/admin/v1/devices/unregistered")
    assert r.status_code == 401
    r = await client.get("/admin/v1/devices/unregistered", headers=await _operator(redis))
    assert r.status_code == 200 and sn in [x["sn"] for x in r.json()["data"]]


async def test_firmware_belongs_to_its_enterprise_or_the_platform(client, redis):
    a, b = await make_project(), await make_project()
    ha, hb, op = await _admin(redis, a), await _admin(redis, b), await _operator(redis)
    mine, platform = uid("vA")[:12], uid("vP")[:12]
    for headers, version, url in (
        (ha, mine, "https://a.example/secret-build.bin"),
        (op, platform, "https://platform.example/x.bin"),
    ):
        r = await client.post(
            "/admin/v1/firmware",
            json={"kind": "attendance", "version": version, "url": url, "sha256": SHA},
            headers=headers,
        )
        assert r.status_code == 201, r.text
    r = await client.get("/admin/v1/firmware", headers=hb)
    versions = {x["version"]: x["owner"] for x in r.json()["data"]}
    assert mine not in versions and versions[platform] == "platform"
    r = await client.get("/admin/v1/firmware", headers=ha)
    versions = {x["version"]: x["owner"] for x in r.json()["data"]}
    assert versions[mine] == "enterprise" and versions[platform] == "platform"
    r = await client.get("/admin/v1/firmware", headers=op)
    assert {mine, platform} <= {x["version"] for x in r.json()["data"]}
    worker_kind = auth(await regulator_token(redis, "630102"))
    r = await client.get("/admin/v1/firmware", headers=worker_kind)
    assert r.status_code == 403

    dev_b = await make_device(b)
    url_b = f"/admin/v1/projects/{b.project.code}/devices/{dev_b.sn}/commands"
    r = await client.post(url_b, json={"type": "upgrade", "version": mine}, headers=hb)
    assert r.status_code == 404 and r.json()["code"] == "firmware_not_found"
    assert (await Device.get(sn=dev_b.sn)).upgrade_status == UpgradeStatus.NONE
    assert not await DeviceCommand.filter(device__sn=dev_b.sn).exists()
    r = await client.post(url_b, json={"type": "upgrade"}, headers=hb)  # newest usable: platform
    assert r.status_code == 201 and r.json()["params"]["version"] == platform
    dev_a = await make_device(a)
    url_a = f"/admin/v1/projects/{a.project.code}/devices/{dev_a.sn}/commands"
    r = await client.post(url_a, json={"type": "upgrade", "version": mine}, headers=ha)
    assert r.status_code == 201 and r.json()["params"]["url"].startswith("https://a.example/")


async def test_upgrade_flow(client, redis):
    world = await make_project()
    h = await _admin(redis, world)
    version = uid("v")[:12]
    r = await client.post(
        "/admin/v1/firmware",
        json={
            "kind": "attendance",
            "version": version,
            "url": "https://fw.example/x.bin",
            "sha256": SHA,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    dev = await make_device(world)
    await call(client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.0"})
    base = f"/admin/v1/projects/{world.project.code}/devices/{dev.sn}"
    r = await client.post(
        f"{base}/commands", json={"type": "upgrade", "version": version}, headers=h
    )
    assert r.status_code == 201, r.text
    assert (await Device.get(sn=dev.sn)).upgrade_status == UpgradeStatus.UPGRADING
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.0"})
    cmds = r.json()["commands"]
    assert cmds[0]["type"] == "upgrade"
    assert cmds[0]["params"] == {
        "version": version,
        "url": "https://fw.example/x.bin",
        "sha256": SHA,
    }
    ack = f"/device/v1/commands/{cmds[0]['id']}/ack"
    r = await call(client, dev, "POST", ack, {"ok": True, "firmware": version})
    assert r.status_code == 200 and r.json()["status"] == "done"
    r = await call(client, dev, "POST", ack, {"ok": True, "firmware": version})
    assert r.json()["status"] == "done"  # idempotent
    device = await Device.get(sn=dev.sn)
    assert device.firmware == version and device.upgrade_status == UpgradeStatus.UPGRADED
    r = await client.get(base, headers=h)
    assert r.json()["upgrade_status_label"] == "已升级"
    assert r.json()["commands"][0]["status"] == "done"


async def test_failed_acks_retry_then_fail(client, redis):
    world = await make_project()
    dev = await make_device(world)
    device = await Device.get(sn=dev.sn)
    cmd = await svc.queue_command(device, "upload_faces", max_attempts=2)
    for attempt in (1, 2):
        r = await heartbeat(client, dev)
        assert [c["id"] for c in r.json()["commands"]] == [str(cmd.id)], attempt
        r = await call(
            client,
            dev,
            "POST",
            f"/device/v1/commands/{cmd.id}/ack",
            {"ok": False, "message": "camera busy"},
        )
    assert r.json()["status"] == "failed"
    r = await heartbeat(client, dev)
    assert r.json()["commands"] == []
    h = await _admin(redis, world)
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/devices/{dev.sn}/commands", headers=h
    )
    row = r.json()["data"][0]
    assert row["status"] == "failed" and row["attempts"] == 2 and row["result"] == "camera busy"


async def test_unacked_command_redelivered_then_failed(client):
    world = await make_project()
    dev = await make_device(world)
    device = await Device.get(sn=dev.sn)
    cmd = await svc.queue_command(device, "sync_persons", {"full": True}, max_attempts=2)
    r = await heartbeat(client, dev)
    assert r.json()["commands"][0]["params"] == {"full": True}
    r = await heartbeat(client, dev)
    assert r.json()["commands"] == []  # not re-sent before the retry interval
    past = dt.datetime.now(dt.UTC) - svc.COMMAND_RETRY_AFTER - dt.timedelta(seconds=5)
    await DeviceCommand.filter(id=cmd.id).update(sent_at=past)
    r = await heartbeat(client, dev)
    assert [c["id"] for c in r.json()["commands"]] == [str(cmd.id)]
    await DeviceCommand.filter(id=cmd.id).update(sent_at=past)
    await svc.expire_commands(device.id)
    assert (await DeviceCommand.get(id=cmd.id)).status == CommandStatus.FAILED


async def test_expired_command_times_out(client):
    world = await make_project()
    dev = await make_device(world)
    device = await Device.get(sn=dev.sn)
    cmd = await svc.queue_command(device, "upload_faces", ttl=dt.timedelta(seconds=-1))
    r = await heartbeat(client, dev)
    assert r.json()["commands"] == []
    got = await DeviceCommand.get(id=cmd.id)
    assert got.status == CommandStatus.TIMEOUT and got.finished_at is not None


async def test_force_offline_delivered_once_then_refused(client, redis):
    world, h, dev = await _managed_device(redis)
    base = f"/admin/v1/projects/{world.project.code}/devices/{dev.sn}"
    r = await client.post(f"{base}/commands", json={"type": "force_offline"}, headers=h)
    assert r.status_code == 201
    r = await heartbeat(client, dev)
    assert r.json()["commands"][0]["type"] == "force_offline"
    r = await call(
        client,
        dev,
        "POST",
        f"/device/v1/commands/{r.json()['commands'][0]['id']}/ack",
        {"ok": True},
    )
    assert r.status_code == 200
    r = await heartbeat(client, dev)
    assert r.json()["code"] == "device_offline_forced"
    r = await client.get(base, headers=h)
    assert r.json()["设备状态"] == "强制下线"
    await client.post(f"{base}/online", headers=h)
    assert (await heartbeat(client, dev)).status_code == 200


async def test_force_push_and_person_push(client, redis):
    world, h, dev = await _managed_device(redis)
    base = f"/admin/v1/projects/{world.project.code}/devices"
    r = await client.post(f"{base}/{dev.sn}/commands", json={"type": "force_push"}, headers=h)
    assert r.json()["params"] == {"full": True}
    r = await client.post(f"{base}/push-persons", json={}, headers=h)
    assert r.json()["queued"] == 1
    r = await heartbeat(client, dev)
    assert [c["params"] for c in r.json()["commands"]] == [{"full": True}, {"full": False}]

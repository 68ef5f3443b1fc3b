"""The ZKTeco ADMS adapter: handshake, ATTLOG, OPTIONS, getrequest, devicecmd, unknown serials."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from models import CommandStatus, Device, DeviceCommand, Punch, UnregisteredDevice
from services import devices as svc
from tests.devices.helpers import JPEG, make_device
from tests.factories import make_member, make_project, site_today
from tests.suite import uid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CST = dt.timezone(dt.timedelta(hours=8))


def _stamp(days_ago: int = 1, hour: int = 7, minute: int = 58) -> str:
    day = site_today() - dt.timedelta(days=days_ago)
    return f"{day:%Y-%m-%d} {hour:02d}:{minute:02d}:12"


async def test_handshake(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms")
    r = await client.get(f"/iclock/cdata?SN={dev.sn}&options=all&pushver=2.4.1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert lines[0] == f"GET OPTION FROM: {dev.sn}"
    keys = {ln.split("=", 1)[0] for ln in lines[1:]}
    for key in (
        "ATTLOGStamp",
        "OPERLOGStamp",
        "ErrorDelay",
        "Delay",
        "TransInterval",
        "TransFlag",
        "Realtime",
        "Encrypt",
        "TimeZone",
    ):
        assert key in keys
    assert "TimeZone=8" in lines
    assert (await Device.get(sn=dev.sn)).last_attendance_at is not None


async def test_unknown_serial_is_403_text_and_recorded(client):
    sn = uid("ZKGHOST")
    r = await client.get(f"/iclock/cdata?SN={sn}")
    assert r.status_code == 403 and "unknown" in r.text
    assert (await UnregisteredDevice.get(sn=sn)).protocol == "adms"
    r = await client.get("/iclock/cdata")
    assert r.status_code == 400


async def test_attlog_tabs_crlf_malformed_and_duplicates(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=True)
    a, b = await make_member(world), await make_member(world)
    body = (
        f"{a.id}\t{_stamp()}\t0\t15\t0\t0\t0\r\n"
        f"{a.id}\t{_stamp(hour=17, minute=31)}\t1\t15\t0\t0\t0\r\n"
        f"{b.id}\tnot-a-time\t0\t15\r\n"
        "garbage row without tabs\n"
        f"{b.id}\t{_stamp()}\t0\t15\n"
        f"99999999\t{_stamp()}\t0\t15\n"
    )
    r = await client.post(
        f"/iclock/cdata?SN={dev.sn}&table=ATTLOG&Stamp=9999", content=body.encode()
    )
    assert r.status_code == 200 and r.text == "OK: 6"
    rows = await Punch.filter(device__sn=dev.sn)
    assert len(rows) == 6
    accepted = [p for p in rows if p.status == "accepted"]
    assert {(p.member_id, p.direction) for p in accepted} == {
        (a.id, "in"),
        (a.id, "out"),
        (b.id, "in"),
    }
    reasons = sorted(p.reason for p in rows if p.status == "rejected")
    assert reasons == ["bad_field", "bad_field", "unknown_person"]
    first = next(p for p in accepted if p.direction == "in" and p.member_id == a.id)
    assert first.time.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S") == _stamp()
    # the terminal re-sends the same rows: nothing new is stored
    r = await client.post(f"/iclock/cdata?SN={dev.sn}&table=ATTLOG", content=body.encode())
    assert r.text == "OK: 6"
    assert await Punch.filter(device__sn=dev.sn).count() == 6


async def test_attlog_without_antispoof_is_no_liveness(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=False)
    m = await make_member(world)
    r = await client.post(
        f"/iclock/cdata?SN={dev.sn}&table=ATTLOG", content=f"{m.id}\t{_stamp()}\t0\t1\n".encode()
    )
    assert r.text == "OK: 1"
    p = await Punch.get(device__sn=dev.sn)
    assert p.status == "rejected" and p.reason == "no_liveness"


async def test_attlog_device_time_zone(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=True, timezone="Asia/Urumqi")
    m = await make_member(world)
    await client.post(
        f"/iclock/cdata?SN={dev.sn}&table=ATTLOG", content=f"{m.id}\t{_stamp()}\t0\t1\n".encode()
    )
    p = await Punch.get(device__sn=dev.sn)
    urumqi = dt.timezone(dt.timedelta(hours=6))
    assert p.time.astimezone(urumqi).strftime("%Y-%m-%d %H:%M:%S") == _stamp()


async def test_options_and_registry_and_other_tables(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms")
    body = (FIXTURES / "options.txt").read_bytes()
    r = await client.post(f"/iclock/cdata?SN={dev.sn}&table=OPTIONS", content=body)
    assert r.text == "OK: 1"
    device = await Device.get(sn=dev.sn)
    assert device.person_count == 312 and device.face_count == 310
    assert device.firmware == "Ver 8.0.4.2-20201026"
    r = await client.post(f"/iclock/registry?SN={dev.sn}", content=b"FWVersion=9.1\nUserCount=5")
    assert r.text.startswith("RegistryCode=") and (await Device.get(sn=dev.sn)).firmware == "9.1"
    r = await client.post(
        f"/iclock/cdata?SN={dev.sn}&table=OPERLOG",
        content=b"OPLOG 4\t0\t2026-11-23 08:00:00\t0\t0\t0\t0\n",
    )
    assert r.status_code == 200 and r.text == "OK: 1"


async def test_fixture_attlog_crlf(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=True)
    r = await client.post(
        f"/iclock/cdata?SN={dev.sn}&table=ATTLOG",
        content=(FIXTURES / "attlog_crlf.txt").read_bytes(),
    )
    assert r.text == "OK: 2"  # PIN 1 is nobody on this project: stored, rejected
    assert await Punch.filter(device__sn=dev.sn, status="rejected").count() == 2


async def test_getrequest_person_sync_and_devicecmd(client, app):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=True)
    m = await make_member(world)
    key = await app.ctx.files.put(JPEG, prefix="faces", suffix=".jpg", content_type="image/jpeg")
    from models import Person

    await Person.filter(id=m.person_id).update(face_key=key, face_sha256="f" * 64)
    r = await client.get(f"/iclock/getrequest?SN={dev.sn}")
    assert r.status_code == 200
    got = r.text.split("\n")  # both commands in one poll
    assert len(got) == 2
    for line in got:
        cmd_id = line.split(":", 2)[1]
        r = await client.post(
            f"/iclock/devicecmd?SN={dev.sn}", content=f"ID={cmd_id}&Return=0&CMD=DATA\n".encode()
        )
        assert r.text == "OK"
    assert got[0].startswith("C:") and f"DATA UPDATE USERINFO PIN={m.id}\t" in got[0]
    assert f"DATA UPDATE BIOPHOTO PIN={m.id}\tNo=0" in got[1] and "\tType=9\t" in got[1]
    assert "Content=" in got[1]
    assert (await client.get(f"/iclock/getrequest?SN={dev.sn}")).text == "OK"
    done = await DeviceCommand.filter(device__sn=dev.sn, status=CommandStatus.DONE).count()
    assert done == 2
    # the member leaves: a DELETE USERINFO follows
    from services.sync import mark_members_changed

    await m.__class__.filter(id=m.id).update(work_status="left")
    await mark_members_changed([m.id])
    await Device.filter(sn=dev.sn).update(person_cursor="")
    svc.forget(dev.sn)
    r = await client.get(f"/iclock/getrequest?SN={dev.sn}")
    assert r.text.endswith(f"DATA DELETE USERINFO PIN={m.id}")


async def test_devicecmd_nonzero_retries_then_fails(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms")
    device = await Device.get(sn=dev.sn)
    cmd = await DeviceCommand.create(
        device=device,
        type="adms",
        max_attempts=2,
        params={"op": "raw", "raw": "INFO"},
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    for _ in range(2):
        r = await client.get(f"/iclock/getrequest?SN={dev.sn}")
        assert r.text == f"C:{cmd.id}:INFO"
        await client.post(
            f"/iclock/devicecmd?SN={dev.sn}", content=f"ID={cmd.id}&Return=-1002&CMD=INFO".encode()
        )
    got = await DeviceCommand.get(id=cmd.id)
    assert got.status == CommandStatus.FAILED and "Return=-1002" in got.result


async def test_sync_persons_resets_cursor_and_forced_offline(client):
    world = await make_project()
    dev = await make_device(world, protocol="adms")
    await make_member(world)
    device = await Device.get(sn=dev.sn)
    await Device.filter(id=device.id).update(person_cursor="99999999999999999.0")
    svc.forget(dev.sn)
    await svc.queue_command(device, "sync_persons", {"full": True})
    r = await client.get(f"/iclock/getrequest?SN={dev.sn}")
    # a member without a face was never pushed to this terminal: nothing of it is deleted
    assert r.text == "OK"
    await svc.queue_command(await Device.get(sn=dev.sn), "force_offline")
    r = await client.get(f"/iclock/getrequest?SN={dev.sn}")
    assert r.text.endswith(":REBOOT")
    r = await client.get(f"/iclock/getrequest?SN={dev.sn}")
    assert r.status_code == 403
    r = await client.post(f"/iclock/cdata?SN={dev.sn}&table=ATTLOG", content=b"1\tx\t0\n")
    assert r.status_code == 403

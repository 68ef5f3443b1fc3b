"""ADMS as real terminals talk (issue 11): captured request bodies, one fixture file per case.

Security (serial binding, source network, re-binding, verify modes), punches that used to be
lost (state 255, leading zeros, access-control rtlog), protocol fidelity (Date, TimeZone,
GB2312, endpoints, devicecmd rows, several commands per poll, first sync) and the former 500s.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime
from pathlib import Path

from devices.adms.commands import ADMS_COMMANDS_PER_POLL, adms_next_commands
from models import (
    Account,
    AccountKind,
    CommandStatus,
    Device,
    DeviceCommand,
    Person,
    ProjectMember,
    Punch,
    PunchStatus,
)
from models.devices import DevicePin, SuspiciousContact
from services import devices as svc
from services.sync import mark_members_changed
from tests.devices.helpers import JPEG, make_device
from tests.factories import (
    auth,
    enterprise_token,
    make_member,
    make_person,
    make_project,
    site_today,
    token_for,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CST = dt.timezone(dt.timedelta(hours=8))


def fixture(name: str, **values: object) -> bytes:
    """A captured body with its PIN/day/id placeholders filled in."""
    body = (FIXTURES / name).read_text()
    for key, value in values.items():
        body = body.replace("{" + key + "}", str(value))
    return body.encode()


def yesterday() -> str:
    return f"{dt.datetime.now(CST).date() - dt.timedelta(days=1):%Y-%m-%d}"


async def member(world, app=None, name: str | None = None) -> ProjectMember:
    """A labour member who entered a few days ago, with a face photo when ``app`` is given."""
    person, _, _ = await make_person(name=name)
    m = await make_member(world, person=person, entry_date=site_today() - dt.timedelta(days=5))
    if app is not None:
        key = await app.ctx.files.put(
            JPEG, prefix="faces", suffix=".jpg", content_type="image/jpeg"
        )
        await Person.filter(id=person.id).update(face_key=key, face_sha256="e" * 64)
        await mark_members_changed([m.id])
    return m


async def adms_device(world, **kw):
    return await make_device(world, protocol="adms", antispoof=True, **kw)


async def attlog(client, sn: str, body: bytes):
    """An attendance upload (ATTLOG table) from the ADMS terminal `sn`."""
    return await client.post(f"/iclock/cdata?SN={sn}&table=ATTLOG", content=body)


async def queued(device: Device, project_id: int, params: dict, **kw) -> DeviceCommand:
    """An ADMS command waiting for `device` (valid for an hour), queued straight in the table."""
    return await DeviceCommand.create(
        device=device,
        project_id=project_id,
        type="adms",
        params=params,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        **kw,
    )


async def poll(client, sn: str) -> list[str]:
    r = await client.get(f"/iclock/getrequest?SN={sn}")
    assert r.status_code == 200, r.text
    return [] if r.text == "OK" else r.text.split("\n")


async def confirm(client, sn: str, lines: list[str], code: int = 0) -> None:
    body = "".join(f"ID={ln.split(':', 2)[1]}&Return={code}&CMD=DATA\n" for ln in lines)
    r = await client.post(f"/iclock/devicecmd?SN={sn}", content=body.encode())
    assert r.status_code == 200 and r.text == "OK"


# --- 1. /iclock serves only ADMS registrations -----------------------------------------------


async def test_native_serial_is_refused_on_iclock_and_recorded(client, app, redis):
    world = await make_project()
    native = await make_device(world)  # a signed terminal: its serial is no secret
    m = await member(world, app, name="张三丰")
    device = await Device.get(sn=native.sn)
    cmd = await queued(
        device, world.project.id, {"op": "userinfo", "pin": m.id, "person_id": m.person_id}
    )
    body = f"{m.id}\t{yesterday()} 08:00:00\t0\t15\n".encode()
    r = await attlog(client, native.sn, body)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/plain")
    assert await Punch.filter(device_id=device.id).count() == 0
    r = await client.get(f"/iclock/getrequest?SN={native.sn}")
    assert r.status_code == 403 and "张三丰" not in r.text and "BIOPHOTO" not in r.text
    r = await client.post(
        f"/iclock/devicecmd?SN={native.sn}", content=f"ID={cmd.id}&Return=0&CMD=DATA".encode()
    )
    assert r.status_code == 403
    assert (await DeviceCommand.get(id=cmd.id)).status == CommandStatus.PENDING
    r = await client.get(f"/iclock/cdata?SN={native.sn}&options=all")
    assert r.status_code == 403 and "GET OPTION" not in r.text
    seen = await SuspiciousContact.get(sn=native.sn, reason="native_on_adms")
    assert seen.count == 4 and seen.protocol == "native" and seen.ip == "127.0.0.1"
    # the operators' list shows it; an enterprise may not read it
    op = await Account.create(kind=AccountKind.OPERATOR, display_name="平台运维")
    r = await client.get("/admin/v1/devices/suspicious", headers=auth(await token_for(redis, op)))
    rows = r.json()["data"]
    assert any(row["sn"] == native.sn and row["reason"] == "native_on_adms" for row in rows)
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    assert (await client.get("/admin/v1/devices/suspicious", headers=h)).status_code == 403


async def test_allowed_network_checked_against_the_socket_peer(client, client_at, redis):
    world = await make_project()
    dev = await adms_device(world, allowed_cidr="10.9.0.0/16")
    outside = client  # 127.0.0.1
    r = await outside.get(f"/iclock/cdata?SN={dev.sn}&options=all")
    assert r.status_code == 403 and "not allowed" in r.text
    # a forwarded-for header naming an allowed address does not help
    r = await outside.get(
        f"/iclock/cdata?SN={dev.sn}&options=all", headers={"X-Forwarded-For": "10.9.1.5"}
    )
    assert r.status_code == 403
    assert await SuspiciousContact.filter(sn=dev.sn, reason="source_not_allowed").count() == 1
    inside = client_at("10.9.1.5")
    r = await inside.get(f"/iclock/cdata?SN={dev.sn}&options=all")
    assert r.status_code == 200 and r.text.startswith(f"GET OPTION FROM: {dev.sn}")
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    base = f"/admin/v1/projects/{world.project.code}/devices/{dev.sn}"
    detail = (await client.get(base, headers=h)).json()
    assert detail["allowed_cidr"] == "10.9.0.0/16" and detail["last_ip"] == "10.9.1.5"
    assert detail["network_warning"] is None
    assert detail["suspicious_contacts"][0]["reason"] == "source_not_allowed"
    r = await client.post(f"{base}/settings", json={"allowed_cidr": "10.9.0/33"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "allowed_cidr"


async def test_settings_change_only_the_fields_sent(client, redis):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=False, allowed_cidr="10.9.0.0/16")
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    url = f"/admin/v1/projects/{world.project.code}/devices/{dev.sn}/settings"
    r = await client.post(url, json={"direction_mode": "fixed_in", "antispoof": True}, headers=h)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["direction_mode"], got["antispoof"]) == ("fixed_in", True)
    assert got["allowed_cidr"] == "10.9.0.0/16"  # not sent: unchanged
    r = await client.post(url, json={"timezone": "Asia/Urumqi", "allowed_cidr": None}, headers=h)
    got = r.json()
    assert (got["timezone"], got["allowed_cidr"]) == ("Asia/Urumqi", "")  # null: any network
    assert (got["direction_mode"], got["antispoof"]) == ("fixed_in", True)
    for bad, field in (({"antispoof": None}, "antispoof"), ({"timezone": "Mars/Base"}, "timezone")):
        r = await client.post(url, json=bad, headers=h)
        assert r.status_code == 422 and r.json()["field"] == field, r.text


async def test_new_network_warns_the_admin(client, client_at, redis):
    world = await make_project()
    dev = await adms_device(world)
    assert (await client_at("192.168.1.20").get(f"/iclock/ping?SN={dev.sn}")).status_code == 200
    assert (await client_at("192.168.1.21").get(f"/iclock/ping?SN={dev.sn}")).status_code == 200
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    base = f"/admin/v1/projects/{world.project.code}/devices/{dev.sn}"
    assert (await client.get(base, headers=h)).json()["network_warning"] is None  # same /24
    assert (await client_at("203.0.113.9").get(f"/iclock/ping?SN={dev.sn}")).status_code == 200
    detail = (await client.get(base, headers=h)).json()
    assert detail["network_warning"]["network"] == "203.0.113.0/24"
    assert detail["last_ip"] == "203.0.113.9"
    r = await client.post(f"{base}/network-warning/ack", headers=h)
    assert r.json()["network_warning"] is None
    # back on a known network: no new warning
    await client_at("192.168.1.20").get(f"/iclock/ping?SN={dev.sn}")
    assert (await client.get(base, headers=h)).json()["network_warning"] is None


# --- 2. re-binding never delivers the old project's data -----------------------------------


async def test_rebinding_cancels_old_commands_and_deletes_old_pins(client, app, redis):
    a, b = await make_project(), await make_project()
    dev = await adms_device(a)
    ma = await member(a, app, name="甲项目工人")
    device = await Device.get(sn=dev.sn)
    # A's person sync was queued (and the first pair delivered, not yet confirmed)
    first = await poll(client, dev.sn)
    assert any("甲项目工人" in ln for ln in first)
    await mark_members_changed([ma.id])
    device = await Device.get(sn=dev.sn)
    await svc.queue_command(device, "upload_faces")
    ha = auth(await enterprise_token(redis, a.enterprises["gc"]))
    r = await client.post(
        f"/admin/v1/projects/{a.project.code}/devices/{dev.sn}/unbind", headers=ha
    )
    assert r.status_code == 200
    hb = auth(await enterprise_token(redis, b.enterprises["gc"]))
    # the device was registered by A's general contractor: an operator re-binds it to B
    await Device.filter(sn=dev.sn).update(enterprise_id=None)
    svc.forget(dev.sn)
    r = await client.post(
        f"/admin/v1/projects/{b.project.code}/devices/bind", json={"sn": dev.sn}, headers=hb
    )
    assert r.status_code == 200, r.text
    left = await DeviceCommand.filter(
        device_id=device.id, status__in=[CommandStatus.PENDING, CommandStatus.SENT]
    ).exclude(params={})
    olds = [c for c in left if c.params.get("op") in ("userinfo", "biophoto")]
    assert olds == []
    mb = await member(b, app, name="乙项目工人")
    got = await poll(client, dev.sn)
    text = "\n".join(got)
    assert "甲项目工人" not in text
    assert f"DATA DELETE USERINFO PIN={ma.id}" in text  # A's worker removed from the terminal
    assert f"USERINFO PIN={mb.id}\t" in text and "乙项目工人" in text
    canceled = await DeviceCommand.filter(device_id=device.id, status=CommandStatus.CANCELED)
    assert {c.type for c in canceled} >= {"adms", "upload_faces"}
    # a command queued for A but somehow still pending is never delivered to B
    stray = await queued(device, a.project.id, {"op": "raw", "raw": "INFO"})
    assert all(f"C:{stray.id}:" not in ln for ln in await poll(client, dev.sn))
    # person data is read at delivery, only for a member of the current project
    smuggled = await queued(
        device, b.project.id, {"op": "userinfo", "pin": ma.id, "person_id": ma.person_id}
    )
    assert all("甲项目工人" not in ln for ln in await poll(client, dev.sn))
    assert (await DeviceCommand.get(id=smuggled.id)).status == CommandStatus.FAILED


async def test_rebinding_a_native_terminal_drops_its_person_list(client, redis):
    a, b = await make_project(), await make_project()
    dev = await make_device(a)
    device = await Device.get(sn=dev.sn)
    old = await svc.queue_command(device, "upload_faces")
    await svc.unbind(device)
    await svc.bind(await Device.get(sn=dev.sn), b.project)
    assert (await DeviceCommand.get(id=old.id)).status == CommandStatus.CANCELED
    fresh = await DeviceCommand.filter(device_id=device.id, status=CommandStatus.PENDING)
    assert [(c.type, c.params, c.project_id) for c in fresh] == [
        ("sync_persons", {"full": True}, b.project.id)
    ]


# --- 3. verify modes --------------------------------------------------------------------------


async def test_only_face_or_palm_verification_is_live(client, app):
    world = await make_project()
    dev = await adms_device(world)
    m = await member(world, app)
    r = await attlog(client, dev.sn, fixture("attlog_verify_modes.txt", pin=m.id, day=yesterday()))
    assert r.text == "OK: 5"
    rows = {
        p.time.astimezone(CST).strftime("%H:%M"): p for p in await Punch.filter(device__sn=dev.sn)
    }
    assert rows["07:50"].reason == "no_liveness"  # verify 3: password
    assert rows["07:51"].reason == "no_liveness"  # verify 4: card
    assert rows["07:52"].status == PunchStatus.ACCEPTED  # verify 15: face
    assert rows["07:53"].status == PunchStatus.ACCEPTED  # verify 25: palm
    assert rows["07:54"].reason == "no_liveness"  # no verify column
    lines = await poll(client, dev.sn)
    userinfo = next(ln for ln in lines if "USERINFO" in ln)
    assert "\tVerify=15" in userinfo and "Verify=0" not in userinfo


# --- 4. state 255 and direction modes ---------------------------------------------------------


async def test_state_255_is_auto_first_in_then_alternating(client, app):
    world = await make_project()
    dev = await adms_device(world)
    m = await member(world)
    body = fixture("attlog_state255.txt", pin=m.id, day=yesterday())
    first, rest = body.split(b"\n", 1)
    await attlog(client, dev.sn, first + b"\n")
    r = await attlog(client, dev.sn, rest)
    assert r.text == "OK: 2"
    rows = await Punch.filter(device__sn=dev.sn).order_by("time")
    assert [(p.status, p.member_id, p.direction) for p in rows] == [
        (PunchStatus.ACCEPTED, m.id, "in"),
        (PunchStatus.ACCEPTED, m.id, "out"),
        (PunchStatus.ACCEPTED, m.id, "in"),
    ]
    # the same rows again: duplicates, directions unchanged
    await attlog(client, dev.sn, body)
    assert await Punch.filter(device__sn=dev.sn).count() == 3


async def test_fixed_direction_modes(client):
    world = await make_project()
    entrance = await adms_device(world, direction_mode="fixed_in")
    exit_ = await adms_device(world, direction_mode="fixed_out")
    m = await member(world)
    day = yesterday()
    # the state says out: the entrance's mode wins
    await attlog(client, entrance.sn, f"{m.id}\t{day} 07:30:00\t1\t15\n".encode())
    await attlog(client, exit_.sn, f"{m.id}\t{day} 18:30:00\t255\t15\n".encode())
    assert (await Punch.get(device__sn=entrance.sn)).direction == "in"
    assert (await Punch.get(device__sn=exit_.sn)).direction == "out"
    r = await client.get(f"/iclock/ping?SN={entrance.sn}")
    assert r.status_code == 200
    try:
        await svc.register_device(
            world.project, kind="attendance", sn="X-BAD-MODE", manufacturer="", model="",
            protocol="adms", direction_mode="sideways",
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - checked below
        assert getattr(exc, "field", None) == "direction_mode"
    else:
        raise AssertionError("an unknown direction mode was accepted")


# --- 6. leading zeros ----------------------------------------------------------------------


async def test_leading_zero_pins_are_one_punch(client):
    world = await make_project()
    dev = await adms_device(world)
    m = await member(world)
    r = await attlog(
        client,
        dev.sn,
        fixture("attlog_leading_zeros.txt", pin=m.id, zpin=f"000{m.id}", day=yesterday()),
    )
    assert r.text == "OK: 2"
    rows = await Punch.filter(device__sn=dev.sn)
    assert len(rows) == 1 and rows[0].member_id == m.id and rows[0].status == "accepted"


async def test_key_value_attlog_rows(client):
    world = await make_project()
    dev = await adms_device(world)
    m = await member(world)
    r = await attlog(client, dev.sn, fixture("attlog_key_value.txt", pin=m.id, day=yesterday()))
    assert r.text == "OK: 1"
    p = await Punch.get(device__sn=dev.sn)
    assert (p.member_id, p.direction, p.status) == (m.id, "in", "accepted")
    assert p.time.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S") == f"{yesterday()} 06:58:01"


# --- 7. Date header and TimeZone ---------------------------------------------------------------


async def test_every_reply_carries_date_and_timezone_uses_minutes(client):
    world = await make_project()
    dev = await adms_device(world)
    kathmandu = await adms_device(world, timezone="Asia/Kathmandu")  # +05:45
    kolkata = await adms_device(world, timezone="Asia/Kolkata")  # +05:30
    for url in (
        f"/iclock/cdata?SN={dev.sn}&options=all",
        f"/iclock/getrequest?SN={dev.sn}",
        "/iclock/cdata?SN=NOBODY-AT-ALL",
        "/iclock/cdata",
        f"/iclock/whatever?SN={dev.sn}",
    ):
        r = await client.get(url)
        assert "date" in r.headers, url
        sent = parsedate_to_datetime(r.headers["date"])
        assert abs((sent - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    assert "TimeZone=8" in (await client.get(f"/iclock/cdata?SN={dev.sn}")).text.splitlines()
    assert "TimeZone=330" in (await client.get(f"/iclock/cdata?SN={kolkata.sn}")).text.splitlines()
    assert (
        "TimeZone=345" in (await client.get(f"/iclock/cdata?SN={kathmandu.sn}")).text.splitlines()
    )


# --- 8. GB2312 names --------------------------------------------------------------------------


async def test_names_go_out_in_gbk_to_chinese_terminals(client, app):
    world = await make_project()
    dev = await adms_device(world)
    utf = await adms_device(world)
    m = await member(world, app, name="欧阳娜娜")
    r = await client.post(
        f"/iclock/cdata?SN={dev.sn}&table=OPTIONS", content=fixture("options_language83.txt")
    )
    assert r.text == "OK: 1" and (await Device.get(sn=dev.sn)).language == "83"
    r = await client.get(f"/iclock/getrequest?SN={dev.sn}")
    assert "gb2312" in r.headers["content-type"]
    assert f"USERINFO PIN={m.id}\tName=欧阳娜娜\t".encode("gbk") in r.content
    assert "欧阳娜娜".encode() not in r.content
    r = await client.get(f"/iclock/getrequest?SN={utf.sn}")
    assert "Name=欧阳娜娜\t".encode() in r.content  # language not 83: UTF-8


# --- 9. endpoints firmware uses ------------------------------------------------------------


async def test_firmware_endpoints_answer_plain_text(client, app):
    world = await make_project()
    dev = await adms_device(world)
    m = await member(world)
    sn = dev.sn
    assert (await client.get(f"/iclock/ping?SN={sn}")).text == "OK"
    assert (await client.get(f"/iclock/ping.aspx?sn={sn}")).text == "OK"  # lowercase sn
    r = await client.get(f"/iclock/rtdata?SN={sn}&type=time")
    assert r.text.startswith("DateTime=") and r.text.endswith("ServerTZ=+0800")
    assert (await client.post(f"/iclock/querydata?SN={sn}&type=count", content=b"")).text == "OK"
    r = await client.get(f"/iclock/cdata.aspx?SN={sn}&options=all")
    assert r.text.startswith(f"GET OPTION FROM: {sn}")
    r = await client.get(f"/iclock/cdata?SN={sn}&table=RemoteAtt&PIN={m.id}")
    assert r.status_code == 200 and r.text == "OK"
    r = await client.post(f"/iclock/nonsense?SN={sn}", content=b"x")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
    assert not r.text.startswith("{")
    # an attendance photo is stored and attached to its punch
    day = yesterday()
    await client.post(
        f"/iclock/cdata.aspx?SN={sn}&table=ATTLOG",
        content=f"{m.id}\t{day} 07:40:00\t0\t15\n".encode(),
    )
    stamp = day.replace("-", "") + "074000"
    body = f"PIN={stamp}-{m.id}.jpg\nSN={sn}\nsize={len(JPEG)}\nCMD=uploadphoto\x00".encode() + JPEG
    r = await client.post(f"/iclock/fdata?SN={sn}&table=ATTPHOTO", content=body)
    assert r.text == "OK"
    punch = await Punch.get(device__sn=sn)
    assert punch.photo_key and await app.ctx.files.get(punch.photo_key) == JPEG
    r = await client.post(f"/iclock/fdata?SN={sn}&table=ATTPHOTO", content=b"PIN=x.jpg\x00nope")
    assert r.status_code == 400
    # a photo before its row: attached when the row arrives
    stamp = day.replace("-", "") + "081500"
    body = f"PIN={stamp}-{m.id}.jpg\nSN={sn}\nsize={len(JPEG)}\nCMD=uploadphoto\x00".encode() + JPEG
    assert (await client.post(f"/iclock/fdata?SN={sn}", content=body)).text == "OK"
    await attlog(client, sn, f"{m.id}\t{day} 08:15:00\t1\t15\n".encode())
    late = await Punch.get(device__sn=sn, direction="out")
    assert late.photo_key and await app.ctx.files.get(late.photo_key) == JPEG


# --- 10. devicecmd rows ----------------------------------------------------------------------


async def test_devicecmd_rows_and_delete_of_absent_user(client, app):
    world = await make_project()
    dev = await adms_device(world)
    m = await member(world, app)
    lines = await poll(client, dev.sn)
    userinfo_id = next(ln for ln in lines if "USERINFO" in ln).split(":")[1]
    biophoto_id = next(ln for ln in lines if "BIOPHOTO" in ln).split(":")[1]
    await confirm(client, dev.sn, [ln for ln in lines if "BIOPHOTO" in ln])
    await ProjectMember.filter(id=m.id).update(work_status="left")
    await mark_members_changed([m.id])
    lines = await poll(client, dev.sn)
    assert lines == [lines[0]] and lines[0].endswith(f"DATA DELETE USERINFO PIN={m.id}")
    delete_id = lines[0].split(":")[1]
    r = await client.post(
        f"/iclock/devicecmd?SN={dev.sn}",
        content=fixture(
            "devicecmd_delete_absent_lf.txt", delete_id=delete_id, userinfo_id=userinfo_id
        ),
    )
    assert r.text == "OK"
    assert (await DeviceCommand.get(id=int(delete_id))).status == CommandStatus.DONE
    assert await DevicePin.filter(pin=m.id).count() == 0
    assert (await DeviceCommand.get(id=int(biophoto_id))).status == CommandStatus.DONE
    # -10 on anything but a DELETE is a failure (retried)
    device = await Device.get(sn=dev.sn)
    raw = await queued(device, world.project.id, {"op": "raw", "raw": "INFO"}, max_attempts=5)
    assert await poll(client, dev.sn) == [f"C:{raw.id}:INFO"]
    # -10 is "user absent": done only for a DELETE
    await client.post(f"/iclock/devicecmd?SN={dev.sn}", content=f"ID={raw.id}&Return=-10".encode())
    assert (await DeviceCommand.get(id=raw.id)).status == CommandStatus.PENDING
    assert await poll(client, dev.sn) == [f"C:{raw.id}:INFO"]
    # ID and Return on separate lines: read as one row, and -1001 is not a success
    r = await client.post(
        f"/iclock/devicecmd?SN={dev.sn}", content=fixture("devicecmd_split_return.txt", id=raw.id)
    )
    got = await DeviceCommand.get(id=raw.id)
    assert got.status == CommandStatus.PENDING and "Return=-1001" in got.result
    # an ID line without any Return is not a success either
    await poll(client, dev.sn)
    await client.post(f"/iclock/devicecmd?SN={dev.sn}", content=f"ID={raw.id}\n".encode())
    assert (await DeviceCommand.get(id=raw.id)).status == CommandStatus.PENDING


# --- 11. several commands per poll; first sync; one pair per change ----------------------------


async def test_getrequest_delivers_several_commands_and_first_sync_keeps_local_users(client, app):
    world = await make_project()
    dev = await adms_device(world)
    members = [await member(world, app) for _ in range(12)]
    gone = await member(world, app)  # left before the terminal was ever synced
    await ProjectMember.filter(id=gone.id).update(work_status="left")
    await mark_members_changed([gone.id])
    first = await poll(client, dev.sn)
    assert len(first) == ADMS_COMMANDS_PER_POLL  # 20 commands in one reply
    second = await poll(client, dev.sn)
    text = "\n".join(first + second)
    assert len(first + second) == 24  # a USERINFO+BIOPHOTO pair per member
    for m in members:
        assert text.count(f"USERINFO PIN={m.id}\t") == 1
        assert text.count(f"BIOPHOTO PIN={m.id}\t") == 1
    assert "DELETE" not in text  # never pushed by the platform: not deleted
    await confirm(client, dev.sn, first + second)
    # empty polls while the cursor re-reads recent changes queue nothing again
    for _ in range(3):
        assert await poll(client, dev.sn) == []
    # one face change: one pair, however many polls
    await mark_members_changed([members[0].id])
    await mark_members_changed([members[0].id])
    got = await poll(client, dev.sn)
    assert len(got) == 2 and f"USERINFO PIN={members[0].id}\t" in got[0]
    await confirm(client, dev.sn, got)
    for _ in range(3):
        assert await poll(client, dev.sn) == []
    assert await DeviceCommand.filter(device__sn=dev.sn, type="adms").count() == 26


async def test_first_sync_never_deletes_terminal_local_pins(client, app):
    world = await make_project()
    dev = await adms_device(world)
    # PIN 1 (the terminal's administrator) is some other member id on the platform, not ours
    await member(world, app)
    lines = await poll(client, dev.sn)
    assert all("DELETE USERINFO PIN=1\n" not in ln and not ln.endswith("PIN=1") for ln in lines)


# --- 12. former 500s --------------------------------------------------------------------------


async def test_former_500s_answer_4xx_plain_text(client):
    world = await make_project()
    dev = await adms_device(world)
    r = await client.get(f"/iclock/cdata?SN={'9' * 65}&options=all")
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")
    r = await client.post(
        f"/iclock/devicecmd?SN={dev.sn}", content=fixture("devicecmd_huge_id.txt")
    )
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")
    r = await client.post(
        f"/iclock/cdata?SN={dev.sn}&table=OPTIONS", content=fixture("options_huge_count.txt")
    )
    assert r.status_code == 422 and r.text == "ERROR: bad_field UserCount"
    assert (await Device.get(sn=dev.sn)).face_count == 0  # nothing of that body stored
    # a PIN beyond any member id is a bad row, not a server error
    r = await attlog(client, dev.sn, f"99999999999999999\t{yesterday()} 08:00:00\t0\t15\n".encode())
    assert r.text == "OK: 1"
    assert (await Punch.get(device__sn=dev.sn)).reason == "bad_field"


# --- 5. access-control PUSH firmware ------------------------------------------------------


async def test_access_control_dialect(client, app):
    world = await make_project()
    dev = await adms_device(world)
    m = await member(world, app, name="门禁工人")
    sn = dev.sn
    r = await client.get(f"/iclock/cdata?SN={sn}&options=all&pushver=3.1.2&DeviceType=acc")
    assert r.text.startswith("registry=ok\nRegistryCode=")
    r = await client.post(f"/iclock/registry?SN={sn}", content=fixture("registry_acc.txt"))
    assert r.status_code == 200 and r.text.startswith("RegistryCode=")
    device = await Device.get(sn=sn)
    assert device.push_dialect == "acc" and device.firmware == "ZAM180-NF-Ver1.1.17"
    r = await client.post(f"/iclock/push?SN={sn}")
    assert r.status_code == 200 and "TransTables=User Transaction" in r.text
    assert "RegistryCode=" in r.text
    r = await client.post(
        f"/iclock/cdata?SN={sn}&table=rtlog",
        content=fixture("rtlog_acc.txt", pin=m.id, day=yesterday()),
    )
    assert r.status_code == 200 and r.text == "OK"
    rows = await Punch.filter(device__sn=sn).order_by("time")
    # event 27 (user not registered) is not a punch; the card open is kept as no_liveness
    assert [(p.direction, p.status, p.reason) for p in rows] == [
        ("in", "accepted", None),
        ("out", "rejected", "no_liveness"),
        ("out", "accepted", None),
    ]
    assert all(p.member_id == m.id or p.reason == "no_liveness" for p in rows)
    # person sync in the Security PUSH tables: user, its door authorisation, the face photo
    lines = await poll(client, sn)
    assert len(lines) == 3
    assert f"DATA UPDATE user CardNo=\tPin={m.id}\t" in lines[0] and "Name=门禁工人" in lines[0]
    assert "Verify=15" in lines[0] and "USERINFO" not in "\n".join(lines)
    assert lines[1].endswith(
        f"DATA UPDATE userauthorize Pin={m.id}\tAuthorizeTimezoneId=1\tAuthorizeDoorId=1"
    )
    assert f"DATA UPDATE biophoto PIN={m.id}\t" in lines[2] and "\tType=9\t" in lines[2]
    await confirm(client, sn, lines)
    await ProjectMember.filter(id=m.id).update(work_status="left")
    await mark_members_changed([m.id])
    assert (await poll(client, sn))[0].endswith(f"DATA DELETE user Pin={m.id}")


async def test_cli_registers_an_adms_terminal_with_direction_mode_and_network(settings, database):
    import json

    from tests.servers import cli_env, realname_cli
    from tests.suite import uid

    world = await make_project()
    sn = uid("ZKCLI")
    env = cli_env(settings)
    args = ["device", "register", "--project", world.project.code, "--kind", "attendance",
            "--sn", sn, "--manufacturer", "中控", "--model", "iFace702", "--protocol", "adms",
            "--antispoof", "--direction-mode", "fixed_out",
            "--allowed-cidr", "198.51.100.7"]  # fmt: skip
    out = realname_cli(env, *args, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["direction_mode"] == "fixed_out" and data["allowed_cidr"] == "198.51.100.7/32"
    device = await Device.get(sn=sn)
    assert device.protocol == "adms" and device.direction_mode == "fixed_out"
    out = realname_cli(env, *args[:-1], "not-a-network", timeout=60)
    assert out.returncode != 0 and "invalid_field" in out.stderr


async def test_access_control_offline_transactions(client):
    from devices.adms.parser import zk_time

    world = await make_project()
    dev = await adms_device(world)
    m = await member(world)
    day = dt.datetime.strptime(yesterday(), "%Y-%m-%d")
    body = fixture(
        "transaction_acc.txt",
        pin=m.id,
        t_in=zk_time(day.replace(hour=7, minute=20)),
        t_out=zk_time(day.replace(hour=18, minute=5, second=9)),
    )
    url = f"/iclock/cdata?SN={dev.sn}&table=tabledata&tablename=transaction&count=3"
    r = await client.post(url, content=body)
    assert r.status_code == 200 and r.text == "OK: 3"
    rows = await Punch.filter(device__sn=dev.sn).order_by("time")
    got = [
        (p.member_id, p.direction, p.status, p.time.astimezone(CST).strftime("%H:%M:%S"))
        for p in rows
    ]
    assert got == [(m.id, "in", "accepted", "07:20:00"), (m.id, "out", "accepted", "18:05:09")]
    # the same events later as rtlog (or again): no second punch
    assert (await client.post(url, content=body)).text == "OK: 3"
    assert await Punch.filter(device__sn=dev.sn).count() == 2


async def test_reply_size_budget_puts_back_what_does_not_fit(client, app):
    world = await make_project()
    dev = await adms_device(world)
    for _ in range(2):
        await member(world, app)
    device = await Device.get(sn=dev.sn)
    first = await adms_next_commands(device, app.ctx.files, limit=20, max_bytes=10)
    assert len(first) == 1  # at least one command, even past the budget
    waiting = await DeviceCommand.filter(device_id=device.id, status=CommandStatus.PENDING)
    assert len(waiting) == 3 and all(c.attempts == 0 and c.sent_at is None for c in waiting)
    rest = await adms_next_commands(device, app.ctx.files, limit=20, max_bytes=1 << 20)
    assert len(rest) == 3 and not set(rest) & set(first)

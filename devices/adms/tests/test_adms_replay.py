"""The ADMS protocol sequence replayed against a real ``realname serve`` over a real socket:
handshake → ATTLOG (state 255, verify 3/4/15, leading zeros) → getrequest (several commands,
GB2312) → devicecmd (-10 on a DELETE, LF-separated rows)."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from models import CommandStatus, DeviceCommand, Person, ProjectMember, Punch
from services.sync import mark_members_changed
from tests.devices.helpers import JPEG, make_device
from tests.factories import make_member, make_person, make_project, site_today
from tests.servers import serve_realname

CST = dt.timezone(dt.timedelta(hours=8))


async def _member(world, app, name: str) -> ProjectMember:
    person, _, _ = await make_person(name=name)
    m = await make_member(world, person=person, entry_date=site_today() - dt.timedelta(days=5))
    key = await app.ctx.files.put(JPEG, prefix="faces", suffix=".jpg", content_type="image/jpeg")
    await Person.filter(id=person.id).update(face_key=key, face_sha256="d" * 64)
    await mark_members_changed([m.id])
    return m


async def test_adms_sequence_against_a_real_server(settings, redis_handle, app):
    world = await make_project()
    dev = await make_device(world, protocol="adms", antispoof=True)
    a = await _member(world, app, "李秀英")
    b = await _member(world, app, "王建国")
    c = await _member(world, app, "赵铁柱")
    day = f"{dt.datetime.now(CST).date() - dt.timedelta(days=1):%Y-%m-%d}"
    with serve_realname(settings, redis_handle) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            # handshake of a Chinese-language terminal
            r = await http.get(f"/iclock/cdata?SN={dev.sn}&options=all&pushver=2.4.1&language=83")
            assert r.status_code == 200 and r.text.startswith(f"GET OPTION FROM: {dev.sn}")
            assert "TimeZone=8" in r.text.splitlines() and "date" in r.headers
            # ATTLOG: state 255 twice, password and card verifications, a PIN with zeros
            rows = (
                f"{a.id}\t{day} 07:58:10\t255\t15\t0\t0\t0\r\n"
                f"{b.id}\t{day} 07:59:00\t0\t3\t0\t0\t0\r\n"
                f"{b.id}\t{day} 07:59:30\t0\t4\t0\t0\t0\r\n"
                f"000{c.id}\t{day} 08:01:00\t0\t15\t0\t0\t0\r\n"
                f"{c.id}\t{day} 08:01:00\t0\t15\t0\t0\t0\r\n"
                f"{a.id}\t{day} 17:32:00\t255\t15\t0\t0\t0\r\n"
            )
            r = await http.post(f"/iclock/cdata?SN={dev.sn}&table=ATTLOG&Stamp=1", content=rows)
            assert r.text == "OK: 6" and "date" in r.headers
            # getrequest: the three members' USERINFO+BIOPHOTO in one poll, names in GBK
            r = await http.get(f"/iclock/getrequest?SN={dev.sn}")
            assert "gb2312" in r.headers["content-type"]
            lines = r.content.decode("gbk").split("\n")
            assert len(lines) == 6
            assert any(f"USERINFO PIN={a.id}\tName=李秀英\t" in ln for ln in lines)
            # devicecmd: every result in one body, LF separated
            body = "\n".join(f"ID={ln.split(':')[1]}&Return=0&CMD=DATA" for ln in lines)
            r = await http.post(f"/iclock/devicecmd?SN={dev.sn}", content=body)
            assert r.text == "OK"
            # c leaves; the terminal had already lost that user: Return=-10 on the DELETE
            await ProjectMember.filter(id=c.id).update(work_status="left")
            await mark_members_changed([c.id])
            await asyncio.sleep(2.1)  # the server's member cache
            r = await http.get(f"/iclock/getrequest?SN={dev.sn}")
            assert r.text.endswith(f"DATA DELETE USERINFO PIN={c.id}"), r.text
            delete_id = int(r.text.split(":")[1])
            r = await http.post(
                f"/iclock/devicecmd?SN={dev.sn}",
                content=f"ID={delete_id}&Return=-10&CMD=DATA\n",
            )
            assert r.text == "OK"
            assert (await http.get(f"/iclock/getrequest?SN={dev.sn}")).text == "OK"
    punches = await Punch.filter(device__sn=dev.sn).order_by("time")
    got = [(p.member_id, p.direction, p.status, p.reason) for p in punches]
    assert got == [
        (a.id, "in", "accepted", None),
        (b.id, "in", "rejected", "no_liveness"),
        (b.id, "in", "rejected", "no_liveness"),
        (c.id, "in", "accepted", None),
        (a.id, "out", "accepted", None),
    ]
    cmds = await DeviceCommand.filter(device__sn=dev.sn)
    assert len(cmds) == 7 and all(cmd.status == CommandStatus.DONE for cmd in cmds)

"""Punch diagnosis, the personal month view and the workbench summary."""

from __future__ import annotations

import datetime as dt

from models import Device, DeviceKind, Direction, Post, ProjectMember, WorkStatus
from services import attendance, pii
from services.schemas.attendance import DayPunches
from services.schemas.projectinfo import AttendanceSummary
from tests.attendance.helpers import DEFAULT_TZ, at, punch
from tests.factories import auth, enterprise_token, make_member, make_project
from tests.suite import uid

DAY = dt.date(2028, 2, 29)


async def test_punch_diagnosis_lists_rejected_with_reasons(client, redis, app) -> None:
    """Every punch of the day, accepted or rejected, with plain-Chinese reasons, device, photo."""
    world = await make_project()
    m = await make_member(world, entry_date=dt.date(2028, 2, 1))
    dev = await Device.create(
        sn=uid("SN"),
        kind=DeviceKind.ATTENDANCE,
        project=world.project,
        secret_enc=pii.cipher().encrypt("device-secret"),
    )
    key = await app.ctx.files.put(
        b"\xff\xd8\xff\xe0jpeg", prefix="punch", suffix=".jpg", content_type="image/jpeg"
    )
    await punch(m, at(DAY, 8), Direction.IN, device=dev, photo_key=key)
    await punch(m, at(DAY, 18), Direction.OUT, accepted=False, reason="no_liveness", device=dev)
    await punch(m, at(DAY, 18, 1), Direction.OUT, accepted=False, reason="contract_red")
    await punch(m, at(DAY, 18, 2), Direction.OUT, accepted=False, reason="missing_wage_card")
    await punch(m, at(DAY + dt.timedelta(days=1), 0, 0, 1), Direction.OUT)  # next day
    token = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/attendance/members/{m.id}/punches"
    r = await client.get(url, params={"date": DAY.isoformat()}, headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "abnormal" and body["accepted_count"] == 1
    assert body["rejected_count"] == 3
    DayPunches.model_validate_json(r.content, strict=True)  # the declared reply
    ps = body["punches"]
    assert [p["reason_label"] for p in ps] == [
        None,
        "未检测到活体",
        "合同红色预警（进场超过30天未上传劳动合同）",
        "未登记工资卡或工种",
    ]
    assert ps[0]["device_sn"] == dev.sn and ps[0]["direction_label"] == "进场"
    assert ps[0]["accepted"] is True and ps[1]["accepted"] is False
    assert ps[0]["photo_url"] and ps[1]["photo_url"] is None
    photo = await client.get(ps[0]["photo_url"], headers=auth(token))
    assert photo.status_code == 200 and photo.content.startswith(b"\xff\xd8\xff")
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "private, max-age=300"
    await app.ctx.files.delete(key)  # the store lost the photo: 404, not a server error
    photo = await client.get(ps[0]["photo_url"], headers=auth(token))
    assert photo.status_code == 404 and photo.json()["code"] == "photo_not_found"
    r = await client.get(url, params={"date": "2028-02-30"}, headers=auth(token))
    assert r.status_code == 422 and r.json()["field"] == "date"
    other = await make_project()
    r = await client.get(
        f"/admin/v1/projects/{other.project.code}/attendance/members/{m.id}/punches",
        params={"date": DAY.isoformat()},
        headers=auth(await enterprise_token(redis, other.enterprises["gc"])),
    )
    assert r.status_code == 404


async def test_member_month_view(database) -> None:
    """Calendar of a leap February: states, hours, punches per day, totals."""
    world = await make_project()
    m = await make_member(world, entry_date=dt.date(2028, 2, 1))
    await punch(m, at(DAY, 7), Direction.IN)
    await punch(m, at(DAY, 16, 30), Direction.OUT)
    await punch(m, at(dt.date(2028, 2, 2), 7), Direction.IN, accepted=False, reason="no_liveness")
    await attendance.settle_days(world.project.id, [(m.id, DAY)])
    view = await attendance.member_month(m.id, 2028, 2)
    assert len(view["days"]) == 29
    leap = view["days"][28]
    assert leap["state"] == "normal" and leap["hours"] == 9.5 and len(leap["punches"]) == 2
    assert view["days"][1]["state"] == "absent"
    assert view["days"][1]["punches"][0]["reason_label"] == "未检测到活体"
    assert (view["attendance_days"], view["effective_days"], view["effective_hours"]) == (1, 1, 9.5)


async def test_workbench_summary(client, redis, clock) -> None:
    """On site today by person type and unit; month rate = attended ÷ expected member-days."""
    clock(dt.datetime(2028, 3, 3, 15, tzinfo=DEFAULT_TZ))
    world = await make_project()
    first = dt.date(2028, 3, 1)
    w1 = await make_member(world, entry_date=first)
    w2 = await make_member(world, entry_date=dt.date(2028, 3, 2))
    mgr = await make_member(
        world, person_type="management", post=Post.PROJECT_MANAGER, entry_date=dt.date(2028, 2, 1)
    )
    today = dt.date(2028, 3, 3)
    for mm in (w1, mgr):
        await punch(mm, at(today, 8), Direction.IN)
    await punch(w1, at(first, 8), Direction.IN)
    await punch(w1, at(first, 17), Direction.OUT)
    await attendance.settle_days(
        world.project.id, [(w1.id, today), (mgr.id, today), (w1.id, first)]
    )
    token = await enterprise_token(redis, world.enterprises["gc"])
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/attendance/summary", headers=auth(token)
    )
    body = r.json()
    assert body["date"] == "2028-03-03" and body["on_site_total"] == 2
    by_type = {t["person_type"]: t["count"] for t in body["on_site_by_person_type"]}
    assert by_type == {"labour": 1, "management": 1}
    assert body["on_site_by_unit"][0]["count"] == 2
    # expected: w1 3 days + w2 1 day (today is expected only of those on site) + mgr 3 days
    # = 7; attended: w1 2 + mgr 1 = 3
    assert (body["attended_member_days"], body["expected_member_days"]) == (3, 7)
    assert body["attendance_rate"] == round(3 / 7, 4)
    AttendanceSummary.model_validate_json(r.content, strict=True)  # the declared reply
    assert w2.id


async def test_workbench_rate_morning_of_the_first(client, redis, clock) -> None:
    """On a month's first morning nobody has missed a day yet: 0 of 0 expected until the first
    punch, then only those on site count today (not 0.0% for the whole crew)."""
    clock(dt.datetime(2028, 4, 1, 7, tzinfo=DEFAULT_TZ))
    world = await make_project()
    early = await make_member(world, entry_date=dt.date(2028, 3, 1))
    await make_member(world, entry_date=dt.date(2028, 3, 15))
    token = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/attendance/summary"
    body = (await client.get(url, headers=auth(token))).json()
    assert (body["month"], body["attended_member_days"], body["expected_member_days"]) == (
        "2028-04",
        0,
        0,
    )
    await punch(early, at(dt.date(2028, 4, 1), 6, 50), Direction.IN)
    await attendance.settle_days(world.project.id, [(early.id, dt.date(2028, 4, 1))])
    body = (await client.get(url, headers=auth(token))).json()
    assert (body["attended_member_days"], body["expected_member_days"]) == (1, 1)
    assert body["on_site_total"] == 1 and body["attendance_rate"] == 1.0


async def test_workbench_rate_counts_no_day_after_a_recorded_exit(client, redis, clock) -> None:
    """A worker whose exit is recorded with an earlier exit date (离职 filed days later) keeps
    the days punched after it, but those days are not expected of them: they do not count as
    attended either, so the month's rate cannot pass 100% (the demo's leavers showed 105.9%)."""
    clock(dt.datetime(2028, 3, 5, 15, tzinfo=DEFAULT_TZ))
    world = await make_project()
    stays = await make_member(world, entry_date=dt.date(2028, 2, 1))
    leaves = await make_member(world, entry_date=dt.date(2028, 2, 1))
    days = [dt.date(2028, 3, d) for d in range(1, 6)]
    for mm in (stays, leaves):
        for day in days:
            await punch(mm, at(day, 8), Direction.IN)
            await punch(mm, at(day, 17), Direction.OUT)
    await attendance.settle_days(
        world.project.id, [(mm.id, day) for mm in (stays, leaves) for day in days]
    )
    await ProjectMember.filter(id=leaves.id).update(
        work_status=WorkStatus.LEFT, exit_date=dt.date(2028, 3, 2)
    )
    token = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/attendance/summary"
    body = (await client.get(url, headers=auth(token))).json()
    # expected: stays 5 days + leaves 2 days (1st and 2nd); attended: the same 7, not 10
    assert (body["attended_member_days"], body["expected_member_days"]) == (7, 7)
    assert body["attendance_rate"] == 1.0

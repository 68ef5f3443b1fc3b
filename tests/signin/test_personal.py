"""A worker's own views in the mini-program; post personnel's project summary."""

from __future__ import annotations

import datetime as dt

from models import Direction, Post, Punch, PunchSource, PunchStatus
from services import attendance
from tests.factories import auth, make_member, site_today
from tests.signin.conftest import synced_project, wechat_person


async def test_worker_reads_only_own_attendance(client):
    world = await synced_project()
    me = await wechat_person(client, world, labour=True)
    other = await wechat_person(client, world, labour=True)
    r = await client.get("/miniapp/v1/projects", headers=auth(me["token"]))
    assert r.status_code == 200
    [row] = r.json()["data"]
    assert row["project_code"] == world.project.code and row["person_type"] == "labour"
    member_id = row["member_id"]
    now = dt.datetime.now(dt.UTC)
    day = attendance.local_day(now, attendance.zone(world.project.timezone))
    await Punch.create(
        project=world.project,
        member_id=member_id,
        person=me["person"],
        device_punch_id=f"t-{member_id}-in",
        time=now,
        local_date=day,
        direction=Direction.IN,
        liveness=True,
        source=PunchSource.MOBILE,
        status=PunchStatus.ACCEPTED,
    )
    month = f"{day:%Y-%m}"
    r = await client.get(
        f"/miniapp/v1/members/{member_id}/attendance",
        params={"month": month},
        headers=auth(me["token"]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["member_id"] == member_id and body["project_code"] == world.project.code
    today_cell = next(c for c in body["days"] if c["date"] == day.isoformat())
    assert len(today_cell["punches"]) == 1

    # Another worker's month is refused, whatever the month.
    r = await client.get(
        f"/miniapp/v1/members/{member_id}/attendance",
        params={"month": month},
        headers=auth(other["token"]),
    )
    assert r.status_code == 403 and r.json()["code"] == "not_own_record"
    r = await client.get(
        f"/miniapp/v1/members/{member_id}/attendance",
        params={"month": "2024-13"},
        headers=auth(me["token"]),
    )
    assert r.status_code == 422 and r.json()["field"] == "month"
    r = await client.get("/miniapp/v1/members/999999999/attendance", headers=auth(me["token"]))
    assert r.status_code == 404


async def test_unbound_user_is_asked_to_bind(client):
    from tests.signin.conftest import miniapp_login

    login = await miniapp_login(client)
    r = await client.get("/miniapp/v1/projects", headers=auth(login["token"]))
    assert r.status_code == 403 and r.json()["code"] == "not_bound"


async def test_post_person_summary_and_worker_refused(client):
    world = await synced_project()
    pm = await wechat_person(client, world, post=Post.PROJECT_MANAGER)
    worker = await wechat_person(client, world, labour=True)
    old = site_today() - dt.timedelta(days=40)
    await make_member(world, entry_date=old)  # a red contract warning
    r = await client.get(
        f"/miniapp/v1/projects/{world.project.code}/summary", headers=auth(pm["token"])
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["my_posts"][0]["code"] == Post.PROJECT_MANAGER
    assert body["members_active"]["labour"] == 2 and body["contract_warnings"]["counts"]["red"] == 1
    r = await client.get(
        f"/miniapp/v1/projects/{world.project.code}/summary", headers=auth(worker["token"])
    )
    assert r.status_code == 404

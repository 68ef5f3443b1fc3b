"""Mini-program screens built on other services: approval queue, my contracts, announcements."""

from __future__ import annotations

import datetime as dt

from models import Post, ProjectMember
from models.announcements import Announcement
from tests.attendance.helpers import at, punch
from tests.devices.helpers import JPEG
from tests.factories import auth, site_today
from tests.signin.conftest import supplement_filed, synced_project, wechat_person
from tests.suite import uid


async def test_labour_officer_approval_queue(client, redis):
    world = await synced_project()
    officer = await wechat_person(client, world, post=Post.LABOUR_OFFICER)
    worker = await wechat_person(client, world, labour=True)
    request_id = await supplement_filed(client, redis, world)

    r = await client.get("/miniapp/v1/approvals", headers=auth(officer["token"]))
    assert r.status_code == 200 and request_id in [row["id"] for row in r.json()["data"]]
    r = await client.get("/miniapp/v1/approvals", headers=auth(worker["token"]))
    assert r.status_code == 200 and r.json()["total"] == 0
    r = await client.post(
        f"/miniapp/v1/approvals/{request_id}/reject", json={}, headers=auth(officer["token"])
    )
    assert r.status_code == 422 and r.json()["field"] == "comment"
    r = await client.post(
        f"/miniapp/v1/approvals/{request_id}/approve", json={}, headers=auth(worker["token"])
    )
    assert r.status_code == 403
    r = await client.post(
        f"/miniapp/v1/approvals/{request_id}/approve",
        json={"comment": "属实"},
        headers=auth(officer["token"]),
    )
    assert r.status_code == 200, r.text
    r = await client.get("/miniapp/v1/approvals", headers=auth(officer["token"]))
    assert request_id not in [row["id"] for row in r.json()["data"]]


async def test_my_contracts_with_warning(client):
    world = await synced_project()
    me = await wechat_person(client, world, labour=True)
    other = await wechat_person(client, world, labour=True)
    r = await client.get("/miniapp/v1/projects", headers=auth(me["token"]))
    member_id = r.json()["data"][0]["member_id"]
    r = await client.get(f"/miniapp/v1/members/{member_id}/contracts", headers=auth(me["token"]))
    assert r.status_code == 200, r.text
    assert r.json()["contract_status"] == "unsigned" and r.json()["total"] == 0
    r = await client.get(f"/miniapp/v1/members/{member_id}/contracts", headers=auth(other["token"]))
    assert r.status_code == 403 and r.json()["code"] == "not_own_record"


async def test_announcements_for_my_region(client):
    world = await synced_project(region="630102")
    me = await wechat_person(client, world, labour=True)
    title, far = uid("公告"), uid("公告")
    # one of the city above the project's district, one of another prefecture
    for name, content, region in ((title, "春节放假安排", "630100"), (far, "外地", "632300")):
        await Announcement.create(
            title=name,
            content=content,
            region_id=region,
            publisher_kind="regulator",
            publisher_account_id=1,
        )
    r = await client.get("/miniapp/v1/announcements", headers=auth(me["token"]))
    assert r.status_code == 200, r.text
    titles = [a["title"] for a in r.json()["data"]]
    assert title in titles and far not in titles


async def test_my_punch_photo(client, app):
    world = await synced_project()
    me = await wechat_person(client, world, labour=True)
    member = await ProjectMember.get(person_id=me["person"].id, project_id=world.project.id)
    key = await app.ctx.files.put(JPEG, prefix="punch", suffix=".jpg", content_type="image/jpeg")
    taken = await punch(member, at(site_today() - dt.timedelta(days=1), 8), photo_key=key)
    url = f"/miniapp/v1/members/{member.id}/punches/{taken.id}/photo"
    r = await client.get(url, headers=auth(me["token"]))
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "private, max-age=3600"
    await app.ctx.files.delete(key)  # the store lost the photo: 404, not a server error
    r = await client.get(url, headers=auth(me["token"]))
    assert r.status_code == 404 and r.json()["code"] == "photo_not_found"

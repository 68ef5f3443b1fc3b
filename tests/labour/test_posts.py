"""Post personnel (岗位人员) and duty records (履职)."""

import datetime as dt

from models import PersonType, Post, ProjectMember
from models.duty import DutyRecord
from realname.contract import Page
from services import localtime
from services.schemas.posts import DutyHost, DutyRecordPublic, PostOptions
from tests.factories import (
    auth,
    enterprise_token,
    make_member,
    make_person,
    make_project,
    person_token,
)
from tests.labour.helpers import (
    PDF,
    add_subcontractor,
    gc_world,
    headers_for,
    unenrolled_person,
)


def base(world) -> str:
    return f"/admin/v1/projects/{world.project.code}"


async def _add(client, world, headers, category, id_number, post=None, **more):
    """添加人员: a post person of `category` by ID number (with `post`, ``unit_id``...)."""
    body = {"category": category, "id_number": id_number, **more}
    if post is not None:
        body["post"] = post
    return await client.post(f"{base(world)}/posts", headers=headers, json=body)


async def test_add_supervision_gc_and_sub_staff(client, redis):
    world = await make_project()
    sub = await add_subcontractor(world)
    gc = await headers_for(redis, world, "gc")
    sup = await headers_for(redis, world, "supervisor")
    p1, n1, _ = await make_person()
    r = await _add(client, world, sup, "supervision", n1, Post.CHIEF_SUPERVISOR)
    assert r.status_code == 201, r.text
    assert r.json()["post_label"] == "总监理工程师" and r.json()["unit_id"] == world.supervisor.id
    assert r.json()["person_type"] == "management"
    p2, n2, _ = await make_person()
    r = await _add(client, world, gc, "gc", n2, Post.LABOUR_OFFICER)
    assert r.status_code == 201 and r.json()["unit_id"] == world.gc.id
    p3, n3, _ = await make_person()
    r = await _add(client, world, gc, "sub", n3, Post.PROJECT_MANAGER)
    assert r.status_code == 422 and r.json()["message"] == "请选择分包单位"
    r = await _add(client, world, gc, "sub", n3, Post.PROJECT_MANAGER, unit_id=world.supervisor.id)
    assert r.status_code == 422 and r.json()["message"] == "所选单位不是本项目的分包单位"
    r = await _add(client, world, gc, "sub", n3, Post.PROJECT_MANAGER, unit_id=sub.id)
    assert r.status_code == 201 and r.json()["unit_id"] == sub.id
    for category, expected in (("supervision", p1.id), ("gc", p2.id), ("sub", p3.id)):
        r = await client.get(f"{base(world)}/posts?category={category}", headers=gc)
        assert [row["person_id"] for row in r.json()["data"]] == [expected]
    # the added post person now has standing on the project (rule 9)
    r = await client.get(base(world), headers=auth(await person_token(redis, p2)))
    assert r.status_code == 200


async def test_post_refusals(client, redis):
    world, gc = await gc_world(redis)
    sup = await headers_for(redis, world, "supervisor")
    _, raw = await unenrolled_person()
    r = await _add(client, world, gc, "gc", raw, Post.SAFETY_OFFICER)
    assert r.status_code == 422 and "请先使用采集设备完成实名制采集" in r.json()["message"]
    person, number, _ = await make_person()
    r = await _add(client, world, gc, "gc", number)
    assert r.status_code == 422 and r.json()["message"] == "请选择岗位"
    r = await _add(client, world, gc, "gc", number, Post.CHIEF_SUPERVISOR)
    assert r.status_code == 422 and r.json()["message"] == "该岗位不适用于总包单位"
    r = await _add(client, world, gc, "boss", number, "other")
    assert r.status_code == 422 and r.json()["field"] == "category"
    # the supervisor may not add GC staff
    r = await _add(client, world, sup, "gc", number, Post.OTHER)
    assert r.status_code == 403
    # an active labour member cannot become post personnel at the same time
    await make_member(world, person=person)
    r = await _add(client, world, gc, "gc", number, Post.OTHER)
    assert r.status_code == 409
    assert r.json()["message"] == "该人员是本项目在职劳务人员，请先办理离职后再登记为岗位人员"
    assert await ProjectMember.filter(person=person).count() == 1
    # a company not on the project
    other = await make_project()
    r = await client.get(
        f"{base(world)}/posts?category=gc",
        headers=auth(await enterprise_token(redis, other.enterprises["gc"])),
    )
    assert r.status_code == 404


async def test_post_change_and_exit(client, redis):
    world, gc = await gc_world(redis)
    member = await make_member(world, person_type=PersonType.MANAGEMENT, post=Post.SAFETY_OFFICER)
    r = await client.patch(
        f"{base(world)}/posts/{member.id}", headers=gc, json={"post": Post.TECHNICAL_LEAD}
    )
    assert r.status_code == 200 and r.json()["post_label"] == "技术负责人"
    r = await client.post(f"{base(world)}/posts/{member.id}/exit", headers=gc, json={})
    assert r.status_code == 200 and r.json()["work_status"] == "left"
    labour_member = await make_member(world)
    r = await client.post(f"{base(world)}/posts/{labour_member.id}/exit", headers=gc, json={})
    assert r.status_code == 404


async def test_supervision_meeting_and_pm_duty(client, redis):
    world = await make_project()
    sup = await headers_for(redis, world, "supervisor")
    gc = await headers_for(redis, world, "gc")
    chief = await make_member(
        world, person_type=PersonType.MANAGEMENT, post=Post.CHIEF_SUPERVISOR, unit=world.supervisor
    )
    pm = await make_member(world, person_type=PersonType.MANAGEMENT, post=Post.PROJECT_MANAGER)
    officer = await make_member(world, person_type=PersonType.MANAGEMENT, post=Post.LABOUR_OFFICER)
    today = localtime.project_today(world.project)
    url = f"{base(world)}/duty-records"
    meeting = {
        "kind": "supervision_meeting",
        "duty_date": str(today),
        "host_member_id": str(chief.id),
    }
    sheet = {"file": ("签到表.pdf", PDF, "application/pdf")}
    r = await client.post(url, headers=sup, data={**meeting, "duty_date": ""}, files=sheet)
    assert r.status_code == 422 and r.json()["message"] == "请填写会议日期"
    r = await client.post(url, headers=sup, data={**meeting, "host_member_id": ""}, files=sheet)
    assert r.status_code == 422 and r.json()["message"] == "请选择主持人"
    r = await client.post(
        url, headers=sup, data={**meeting, "host_member_id": str(pm.id)}, files=sheet
    )
    assert r.status_code == 422 and r.json()["message"] == "主持人须为本项目在职的监理人员"
    r = await client.post(url, headers=sup, data=meeting)
    assert r.status_code == 422 and r.json()["message"] == "请上传监理例会签到表"
    future = str(today + dt.timedelta(days=1))
    r = await client.post(url, headers=sup, data={**meeting, "duty_date": future}, files=sheet)
    assert r.status_code == 422 and r.json()["message"] == "会议日期不能晚于今天"
    assert not await DutyRecord.filter(project=world.project).exists()
    r = await client.post(url, headers=sup, data=meeting, files=sheet)
    assert r.status_code == 201, r.text
    DutyRecordPublic.model_validate_json(r.content, strict=True)  # the declared reply
    assert r.json()["host_name"] == (await chief.person).name
    fid = r.json()["file"]["id"]
    r = await client.get(f"{url}?kind=supervision_meeting", headers=gc)
    assert r.json()["total"] == 1 and r.json()["data"][0]["kind_label"] == "监理履职"
    Page[DutyRecordPublic].model_validate_json(r.content, strict=True)
    r = await client.get(f"{base(world)}/files/{fid}", headers=gc)
    assert r.status_code == 200 and r.content == PDF
    # PM duty
    pm_duty = {
        "kind": "pm_duty",
        "duty_date": str(today),
        "host_member_id": pm.id,
        "content": "组织安全技术交底",
    }
    r = await client.post(url, headers=gc, json={**pm_duty, "content": ""})
    assert r.status_code == 422 and r.json()["message"] == "请填写履职内容"
    r = await client.post(url, headers=gc, json={**pm_duty, "host_member_id": officer.id})
    assert r.status_code == 422
    assert r.json()["message"] == "项目负责人须为本项目在职的总包项目经理或项目副经理"
    r = await client.post(url, headers=sup, json=pm_duty)
    assert r.status_code == 403
    r = await client.post(url, headers=gc, json=pm_duty)
    assert r.status_code == 201 and r.json()["file"] is None
    r = await client.get(f"{url}/hosts?kind=pm_duty", headers=gc)
    Page[DutyHost].model_validate_json(r.content, strict=True)
    assert [h["member_id"] for h in r.json()["data"]] == [pm.id]
    # another project cannot see the records or the sign-in sheet
    other = await make_project()
    oh = await headers_for(redis, other, "gc")
    r = await client.get(f"/admin/v1/projects/{other.project.code}/files/{fid}", headers=oh)
    assert r.status_code == 404
    r = await client.get(f"{base(world)}/files/{fid}", headers=oh)
    assert r.status_code == 404


async def test_post_options_reply(client, redis):
    """The 添加人员 pickers: the three tabs with their posts and the units the caller may use."""
    world, gc = await gc_world(redis)
    r = await client.get(f"{base(world)}/posts/options", headers=gc)
    assert r.status_code == 200, r.text
    options = PostOptions.model_validate_json(r.content, strict=True)
    assert [c.category for c in options.categories] == ["supervision", "gc", "sub"]
    gc_posts = {p.code: p.label for p in options.categories[1].posts}
    assert gc_posts[Post.PROJECT_MANAGER] == "项目经理"
    assert world.gc.id in {u.id for u in options.units}

"""Teams (班组管理) and labour members: rules 5 and 6, scoping, masking."""

import datetime as dt

from models import ProjectMember, Team, WorkStatus
from services import localtime, pii
from tests.factories import (
    auth,
    enterprise_token,
    make_enterprise,
    make_id_number,
    make_member,
    make_person,
    make_project,
    site_today,
)
from tests.labour.helpers import (
    BRANCH,
    CARD,
    add_subcontractor,
    gc_world,
    headers_for,
    unenrolled_person,
    wage,
)


def base(world) -> str:
    return f"/admin/v1/projects/{world.project.code}"


async def test_team_crud_and_list_columns(client, redis):
    world, h = await gc_world(redis)
    r = await client.post(
        f"{base(world)}/teams",
        headers=h,
        json={"name": "钢筋一班", "leader": "张三", "unit_id": world.gc.id},
    )
    assert r.status_code == 201, r.text
    team = r.json()
    assert team["status_label"] == "在场" and team["leader"] == "张三"
    r = await client.get(f"{base(world)}/teams", headers=h)
    body = r.json()
    assert body["total"] == 2
    row = [t for t in body["data"] if t["id"] == team["id"]][0]
    assert {"seq", "name", "status_label", "leader", "unit_name"} <= set(row)
    assert row["unit_name"] == world.enterprises["gc"].name
    assert [t["seq"] for t in body["data"]] == [1, 2]
    r = await client.patch(
        f"{base(world)}/teams/{team['id']}", headers=h, json={"leader": "李四", "on_site": "退场"}
    )
    assert r.status_code == 200 and r.json()["status_label"] == "退场"
    # only the fields sent change: a leader sent null is cleared, a name sent null refused
    url = f"{base(world)}/teams/{team['id']}"
    r = await client.patch(url, headers=h, json={"leader": None})
    assert (r.json()["leader"], r.json()["status_label"]) == ("", "退场")
    r = await client.patch(url, headers=h, json={"name": None})
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("required", "name")
    r = await client.get(f"{base(world)}/teams?on_site=false", headers=h)
    assert [t["id"] for t in r.json()["data"]] == [team["id"]]
    r = await client.delete(f"{base(world)}/teams/{team['id']}", headers=h)
    assert r.status_code == 200
    assert (await Team.get(id=team["id"])).deleted_at is not None  # kept for the record
    r = await client.get(f"{base(world)}/teams/{team['id']}", headers=h)
    assert r.status_code == 404


async def test_team_validation(client, redis):
    world, h = await gc_world(redis)
    r = await client.post(f"{base(world)}/teams", headers=h, json={"unit_id": world.gc.id})
    assert r.status_code == 422 and r.json()["field"] == "name"
    assert r.json()["message"] == "请填写班组名称"
    r = await client.post(
        f"{base(world)}/teams", headers=h, json={"name": world.team.name, "unit_id": world.gc.id}
    )
    assert r.status_code == 409 and r.json()["message"] == "本项目已有同名班组"
    r = await client.post(
        f"{base(world)}/teams", headers=h, json={"name": "x", "unit_id": world.builder.id}
    )
    assert r.status_code == 422
    assert r.json()["message"] == "班组只能属于施工总承包单位或分包单位"
    other = await make_project()
    r = await client.post(
        f"{base(world)}/teams", headers=h, json={"name": "x", "unit_id": other.gc.id}
    )
    assert r.status_code == 422 and r.json()["code"] == "unit_not_on_project"
    assert await Team.filter(project=world.project).count() == 1


async def test_delete_or_exit_team_with_active_members_refused(client, redis):
    world, h = await gc_world(redis)
    member = await make_member(world)
    r = await client.delete(f"{base(world)}/teams/{world.team.id}", headers=h)
    assert r.status_code == 409
    assert r.json()["message"] == "班组内还有 1 名在职人员，请先为其办理离职后再删除班组"
    r = await client.patch(
        f"{base(world)}/teams/{world.team.id}", headers=h, json={"on_site": False}
    )
    assert r.status_code == 409 and "请先为其办理离职后再将班组退场" in r.json()["message"]
    assert (await Team.get(id=world.team.id)).on_site is True
    r = await client.post(f"{base(world)}/members/{member.id}/exit", headers=h, json={})
    assert r.status_code == 200 and r.json()["work_status_label"] == "离职"
    r = await client.delete(f"{base(world)}/teams/{world.team.id}", headers=h)
    assert r.status_code == 200


async def test_search_person_by_id_number(client, redis):
    world, h = await gc_world(redis)
    person, number, phone = await make_person()
    r = await client.post(f"{base(world)}/persons/search", headers=h, json={"id_number": number})
    assert r.status_code == 200
    assert r.json()["name"] == person.name and r.json()["membership"] is None
    # Rule 11: not (yet) on this project → name and masked data only, though the GC holds VIEW_PII
    assert r.json()["id_number"] == person.id_number_masked != number
    assert r.json()["phone"] == person.phone_masked != phone
    r = await client.post(
        f"{base(world)}/teams/{world.team.id}/members",
        headers=h,
        json={"id_number": number, **wage()},
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{base(world)}/persons/search", headers=h, json={"id_number": number})
    assert r.status_code == 200 and r.json()["membership"] is not None
    assert r.json()["id_number"] == number and r.json()["phone"] == phone  # now on the project
    _, raw = await unenrolled_person()
    r = await client.post(f"{base(world)}/persons/search", headers=h, json={"id_number": raw})
    assert r.status_code == 422 and r.json()["code"] == "person_not_enrolled"
    assert "请先使用采集设备完成实名制采集" in r.json()["message"]
    r = await client.post(
        f"{base(world)}/persons/search", headers=h, json={"id_number": make_id_number()}
    )
    assert r.status_code == 404 and "请先使用采集设备完成实名制采集" in r.json()["message"]
    r = await client.post(
        f"{base(world)}/persons/search", headers=h, json={"id_number": "123456789012345678"}
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_id_number"


async def test_add_member_requires_enrolment_and_wage_card(client, redis):
    world, h = await gc_world(redis)
    url = f"{base(world)}/teams/{world.team.id}/members"
    _, raw = await unenrolled_person()
    r = await client.post(url, headers=h, json={"id_number": raw, **wage()})
    assert r.status_code == 422 and "请先使用采集设备完成实名制采集" in r.json()["message"]
    person, number, _ = await make_person()
    cases = [
        ({"work_type": ""}, "work_type", "请选择工种"),
        ({"work_type": "厨师长"}, "work_type", "工种不在可选范围内，请从列表中选择"),
        ({"bank_name": ""}, "bank_name", "请填写工资卡银行"),
        ({"bank_card": ""}, "bank_card", "请填写工资卡号"),
        ({"bank_card": "12ab"}, "bank_card", "工资卡号应为12至19位数字"),
        ({"bank_branch_code": ""}, "bank_branch_code", "请填写联行号"),
        ({"bank_branch_code": "12345"}, "bank_branch_code", "联行号应为12位数字"),
    ]
    for over, field, message in cases:
        r = await client.post(url, headers=h, json={"id_number": number, **wage(**over)})
        assert r.status_code == 422, over
        assert (r.json()["field"], r.json()["message"]) == (field, message)
    assert not await ProjectMember.filter(person=person).exists()
    r = await client.post(url, headers=h, json={"id_number": number, **wage()})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["team_id"] == world.team.id and body["work_type"] == "钢筋工"
    assert body["bank_card"] == CARD and body["incomplete_fields"] == []
    member = await ProjectMember.get(id=body["id"])
    assert member.bank_card_enc != CARD and pii.cipher().decrypt(member.bank_card_enc) == CARD
    assert member.sync_version > 0 and member.bank_branch_code == BRANCH
    r = await client.post(url, headers=h, json={"id_number": number, **wage()})
    assert r.status_code == 409 and r.json()["code"] == "already_member"


async def test_rejoin_after_exit_and_off_site_team(client, redis):
    world, h = await gc_world(redis)
    person, number, _ = await make_person()
    member = await make_member(
        world, person=person, entry_date=site_today() - dt.timedelta(days=40)
    )
    r = await client.post(
        f"{base(world)}/members/{member.id}/exit",
        headers=h,
        json={"exit_date": str(site_today() - dt.timedelta(days=41))},
    )
    assert r.status_code == 422 and r.json()["message"] == "离职日期不能早于进场日期"
    r = await client.post(f"{base(world)}/members/{member.id}/exit", headers=h, json={})
    assert r.status_code == 200 and r.json()["exit_date"] == str(
        localtime.project_today(world.project)
    )
    r = await client.post(f"{base(world)}/members/{member.id}/exit", headers=h, json={})
    assert r.status_code == 409 and r.json()["message"] == "该人员已离职"
    r = await client.post(
        f"{base(world)}/teams/{world.team.id}/members",
        headers=h,
        json={"id_number": number, **wage(work_type="木工")},
    )
    assert r.status_code == 201 and r.json()["id"] == member.id  # same PIN for life
    again = await ProjectMember.get(id=member.id)
    assert again.work_status == WorkStatus.ACTIVE and again.exit_date is None
    assert again.entry_date == localtime.project_today(world.project) and again.work_type == "木工"
    off = await Team.create(project=world.project, unit=world.gc, name="退场班组", on_site=False)
    p2, n2, _ = await make_person()
    r = await client.post(
        f"{base(world)}/teams/{off.id}/members", headers=h, json={"id_number": n2, **wage()}
    )
    assert r.status_code == 409 and r.json()["message"] == "班组已退场，不能添加人员"


async def test_complete_migrated_member(client, redis):
    world, h = await gc_world(redis)
    member = await make_member(world, work_type="", bank_card=None, migrated=True)
    r = await client.get(f"{base(world)}/members/{member.id}", headers=h)
    assert set(r.json()["incomplete_fields"]) == {
        "work_type",
        "bank_name",
        "bank_card",
        "bank_branch_code",
    }
    r = await client.patch(
        f"{base(world)}/members/{member.id}", headers=h, json={"work_type": "电工"}
    )
    assert r.status_code == 422 and r.json()["field"] == "bank_name"
    r = await client.patch(f"{base(world)}/members/{member.id}", headers=h, json=wage())
    assert r.status_code == 200 and r.json()["incomplete_fields"] == []
    # later edits keep the card when it is left out
    r = await client.patch(
        f"{base(world)}/members/{member.id}", headers=h, json={"work_type": "木工"}
    )
    assert r.status_code == 200 and r.json()["bank_card"] == CARD
    other_team = await Team.create(project=world.project, unit=world.gc, name="二班")
    r = await client.patch(
        f"{base(world)}/members/{member.id}", headers=h, json={"team_id": other_team.id}
    )
    assert r.status_code == 200 and r.json()["team_name"] == "二班"
    # a field sent null is not "left out": the wage card, entry date and team stay required
    for sent, field in (
        ({"bank_name": None}, "bank_name"),
        ({"entry_date": None}, "entry_date"),
        ({"team_id": None}, "team_id"),
    ):
        r = await client.patch(f"{base(world)}/members/{member.id}", headers=h, json=sent)
        assert r.status_code == 422 and r.json()["field"] == field, (sent, r.text)


async def test_masking_for_builder_and_supervisor(client, redis):
    world = await make_project()
    person, number, phone = await make_person()
    member = await make_member(world, person=person)
    for role in ("builder", "supervisor"):
        h = await headers_for(redis, world, role)
        r = await client.get(f"{base(world)}/teams/{world.team.id}/members", headers=h)
        row = r.json()["data"][0]
        assert row["id_number"] == pii.mask_id_number(number)
        assert row["phone"] == pii.mask_phone(phone)
        assert row["bank_card"] == pii.mask_bank_card(CARD)
        # they see the site but cannot manage the GC's teams
        r = await client.patch(f"{base(world)}/members/{member.id}", headers=h, json=wage())
        assert r.status_code == 403 and r.json()["message"] == "您只能管理本单位的班组和人员"
    h = await headers_for(redis, world, "gc")
    r = await client.get(f"{base(world)}/members/{member.id}", headers=h)
    assert r.json()["id_number"] == number and r.json()["phone"] == phone


async def test_cross_project_and_cross_company(client, redis):
    world, other = await make_project(), await make_project()
    member = await make_member(world)
    stranger = auth(await enterprise_token(redis, await make_enterprise()))
    other_gc = await headers_for(redis, other, "gc")
    for h in (stranger,):
        for method, path in (
            ("get", "/teams"),
            ("get", f"/members/{member.id}"),
            ("get", f"/teams/{world.team.id}/members"),
        ):
            r = await client.request(method.upper(), f"{base(world)}{path}", headers=h)
            assert r.status_code == 404 and r.json()["code"] == "project_not_found"
    # another project's GC using its own project code cannot reach this project's records
    r = await client.get(f"{base(other)}/members/{member.id}", headers=other_gc)
    assert r.status_code == 404
    r = await client.delete(f"{base(other)}/teams/{world.team.id}", headers=other_gc)
    assert r.status_code == 404
    # a subcontractor on the project sees only its own units' teams and people
    sub = await add_subcontractor(world)
    sub_team = await Team.create(project=world.project, unit=sub, name="分包班组")
    sub_h = auth(await enterprise_token(redis, sub.enterprise))
    r = await client.get(f"{base(world)}/teams", headers=sub_h)
    assert [t["id"] for t in r.json()["data"]] == [sub_team.id]
    r = await client.get(f"{base(world)}/members/{member.id}", headers=sub_h)
    assert r.status_code == 404
    r = await client.post(
        f"{base(world)}/teams", headers=sub_h, json={"name": "越权班组", "unit_id": world.gc.id}
    )
    assert r.status_code == 422 and r.json()["code"] == "unit_not_on_project"
    r = await client.post(
        f"{base(world)}/teams", headers=sub_h, json={"name": "自有班组", "unit_id": sub.id}
    )
    assert r.status_code == 201

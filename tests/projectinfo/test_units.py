"""Participating units (参建单位): list columns, derived counts, registration, edit, exit."""

import datetime as dt

from models import Enterprise, ParticipatingUnit, PersonType, Post, WorkStatus
from services import localtime
from tests.factories import (
    auth,
    enterprise_token,
    make_credit_code,
    make_enterprise,
    make_member,
    make_person,
    make_phone,
    make_project,
    person_token,
    regulator_token,
)
from tests.projectinfo.helpers import EXE, pdf
from tests.suite import uid

TODAY = localtime.today(localtime.zone("Asia/Shanghai"))  # the test projects' today


def unit_form(**kw):
    data = {
        "name": uid("分包公司"),
        "credit_code": make_credit_code(),
        "entry_date": TODAY.isoformat(),
        "region_code": "630102",
        "registered_on": "2015-03-01",
        "specialty": "钢结构工程",
    }
    data.update(kw)
    return data


async def test_list_columns_counts_and_masking(client, redis):
    world = await make_project()
    phone = make_phone()
    from services import pii

    world.gc.site_lead = "李春云"
    world.gc.site_lead_phone_enc = pii.cipher().encrypt(phone)
    world.gc.site_lead_phone_masked = pii.mask_phone(phone)
    await world.gc.save()
    await make_member(world)
    await make_member(world)
    left = await make_member(world)
    left.work_status = WorkStatus.LEFT
    await left.save()
    gc_token = await enterprise_token(redis, world.enterprises["gc"])
    r = await client.get(f"/admin/v1/projects/{world.project.code}/units", headers=auth(gc_token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 3
    labels = [row["role_label"] for row in body["data"]]
    assert labels == ["建设单位", "监理单位", "施工总承包单位"]
    gc_row = body["data"][2]
    assert gc_row["seq"] == 3 and gc_row["participant_count"] == 2
    assert gc_row["site_lead_phone"] == phone  # the GC holds VIEW_PII
    assert gc_row["on_site_label"] == "在场" and gc_row["credit_code"]
    # The builder does not hold VIEW_PII: masked.
    b_token = await enterprise_token(redis, world.enterprises["builder"])
    r = await client.get(f"/admin/v1/projects/{world.project.code}/units", headers=auth(b_token))
    assert r.json()["data"][2]["site_lead_phone"] == pii.mask_phone(phone)
    # Filters: role and the search box.
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/units",
        params={"role": "supervisor"},
        headers=auth(gc_token),
    )
    assert [row["role_label"] for row in r.json()["data"]] == ["监理单位"]
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/units",
        params={"q": "李春"},
        headers=auth(gc_token),
    )
    assert [row["id"] for row in r.json()["data"]] == [world.gc.id]
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/units",
        params={"q": world.enterprises["builder"].credit_code[3:12]},
        headers=auth(gc_token),
    )
    assert [row["id"] for row in r.json()["data"]] == [world.builder.id]
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/units",
        params={"role": "boss"},
        headers=auth(gc_token),
    )
    assert r.status_code == 422 and r.json()["field"] == "role"


async def test_register_subcontractor_with_contract(client, redis):
    world = await make_project()
    token = await enterprise_token(redis, world.enterprises["gc"])
    form = unit_form(site_lead="王工", site_lead_phone=make_phone())
    r = await client.post(
        f"/admin/v1/projects/{world.project.code}/units",
        data=form,
        files={"contract_file": pdf()},
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["role_label"] == "专业分包" and row["enterprise_name"] == form["name"]
    assert row["contract"]["name"] == "合同.pdf" and row["contract_registered_at"]
    assert row["participant_count"] == 0 and row["on_site"] is True
    ent = await Enterprise.get(credit_code=form["credit_code"])
    assert ent.region_id == "630102" and str(ent.registered_on) == "2015-03-01"
    # Registering the same enterprise again is refused.
    r = await client.post(
        f"/admin/v1/projects/{world.project.code}/units", data=form, headers=auth(token)
    )
    assert r.status_code == 409
    assert r.json()["message"] == "该单位已是本项目的参建单位，如需调整请使用编辑"


async def test_register_links_existing_enterprise(client, redis):
    world, other = await make_project(), await make_project()
    ent = await make_enterprise()
    token = await enterprise_token(redis, world.enterprises["gc"])
    form = unit_form(name=ent.name, credit_code=ent.credit_code, role="labour_subcontractor")
    r = await client.post(
        f"/admin/v1/projects/{world.project.code}/units", json=form, headers=auth(token)
    )
    assert r.status_code == 201 and r.json()["role_label"] == "劳务分包"
    assert await ParticipatingUnit.filter(enterprise_id=ent.id).count() == 1
    # A name that does not match the credit code's enterprise is refused.
    token2 = await enterprise_token(redis, other.enterprises["gc"])
    r = await client.post(
        f"/admin/v1/projects/{other.project.code}/units",
        json=unit_form(name="别的名字", credit_code=ent.credit_code),
        headers=auth(token2),
    )
    assert r.status_code == 422 and r.json()["field"] == "name"
    assert "已登记为" in r.json()["message"]


async def test_register_validation_changes_nothing(client, redis):
    world = await make_project()
    token = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/units"
    cases = [
        (
            unit_form(credit_code="91630100ABCDEFGHIJ"),
            "credit_code",
            "统一社会信用代码无效，请核对18位代码",
        ),
        (unit_form(name=""), "name", "请填写单位名称"),
        (unit_form(entry_date=""), "entry_date", "请选择进场日期"),
        (unit_form(entry_date="2024-13-01"), "entry_date", "进场日期格式应为 YYYY-MM-DD"),
        (unit_form(region_code="999999"), "region_code", "企业注册区域不存在，请选择到区县一级"),
        (unit_form(region_code=""), "region_code", "请选择企业注册区域"),
        (
            unit_form(
                registered_on=(TODAY + dt.timedelta(days=3)).isoformat(),
                entry_date=(TODAY + dt.timedelta(days=5)).isoformat(),
            ),
            "registered_on",
            "企业注册日期不能晚于今天",
        ),
        (
            unit_form(
                registered_on=TODAY.isoformat(),
                entry_date=(TODAY - dt.timedelta(days=1)).isoformat(),
            ),
            "registered_on",
            "企业注册日期不能晚于进场日期",
        ),
        (unit_form(role="builder"), "role", "登记的单位只能是专业分包或劳务分包"),
        (unit_form(site_lead_phone="12345"), "site_lead_phone", "手机号格式错误，应为11位手机号码"),
    ]
    before = await ParticipatingUnit.filter(project_id=world.project.id).count()
    for form, field, message in cases:
        r = await client.post(url, data=form, headers=auth(token))
        assert r.status_code == 422, (field, r.text)
        assert (r.json()["field"], r.json()["message"]) == (field, message)
    r = await client.post(
        url, data=unit_form(), files={"contract_file": ("a.pdf", EXE, "x")}, headers=auth(token)
    )
    assert r.status_code == 422 and r.json()["field"] == "contract_file"
    assert await ParticipatingUnit.filter(project_id=world.project.id).count() == before


async def test_who_may_register(client, redis):
    world = await make_project()
    url = f"/admin/v1/projects/{world.project.code}/units"
    # The builder and the PM may register; a subcontractor, supervisor or regulator may not.
    r = await client.post(
        url,
        json=unit_form(),
        headers=auth(await enterprise_token(redis, world.enterprises["builder"])),
    )
    assert r.status_code == 201
    pm, _, _ = await make_person()
    await make_member(
        world, person=pm, person_type=PersonType.MANAGEMENT, post=Post.PROJECT_MANAGER
    )
    r = await client.post(url, json=unit_form(), headers=auth(await person_token(redis, pm)))
    assert r.status_code == 201
    sub = ParticipatingUnit(id=r.json()["id"])
    sub_ent = await Enterprise.get(participations__id=sub.id)
    r = await client.post(
        url, json=unit_form(), headers=auth(await enterprise_token(redis, sub_ent))
    )
    assert r.status_code == 403
    assert r.json()["message"] == "仅建设单位、施工总承包单位或项目管理人员可登记和管理参建单位"
    r = await client.post(
        url,
        json=unit_form(),
        headers=auth(await enterprise_token(redis, world.enterprises["supervisor"])),
    )
    assert r.status_code == 403
    reg = await regulator_token(redis, "630102")
    r = await client.post(url, json=unit_form(), headers=auth(reg))
    assert r.status_code == 403 and r.json()["code"] == "project_forbidden"


async def test_cross_project_and_cross_company_refused(client, redis):
    a, b = await make_project(), await make_project()
    token_a = await enterprise_token(redis, a.enterprises["gc"])
    r = await client.get(f"/admin/v1/projects/{b.project.code}/units", headers=auth(token_a))
    assert r.status_code == 404
    r = await client.post(
        f"/admin/v1/projects/{b.project.code}/units", json=unit_form(), headers=auth(token_a)
    )
    assert r.status_code == 404
    # A unit of project B addressed through project A is not found.
    r = await client.patch(
        f"/admin/v1/projects/{a.project.code}/units/{b.gc.id}",
        json={"specialty": "x"},
        headers=auth(token_a),
    )
    assert r.status_code == 404 and r.json()["code"] == "unit_not_found"
    r = await client.post(
        f"/admin/v1/projects/{a.project.code}/units/{b.gc.id}/exit",
        json={"exit_date": TODAY.isoformat()},
        headers=auth(token_a),
    )
    assert r.status_code == 404
    r = await client.get(f"/admin/v1/projects/{a.project.code}/units")
    assert r.status_code == 401


async def test_edit_unit_rules(client, redis):
    world = await make_project()
    gc = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/units"
    r = await client.post(url, json=unit_form(), headers=auth(gc))
    sub_id = r.json()["id"]
    new_name = uid("新名称")
    r = await client.put(
        f"{url}/{sub_id}",
        data={"name": new_name, "specialty": "幕墙", "region_code": "632801"},
        files={"contract_file": pdf("新合同.pdf")},
        headers=auth(gc),
    )
    assert r.status_code == 200, r.text
    row = r.json()
    assert row["enterprise_name"] == new_name and row["specialty"] == "幕墙"
    assert row["region_code"] == "632801" and row["contract"]["name"] == "新合同.pdf"
    # Credit code is read-only; synced units keep their permit name.
    r = await client.patch(
        f"{url}/{sub_id}", json={"credit_code": make_credit_code()}, headers=auth(gc)
    )
    assert r.status_code == 422 and r.json()["message"] == "统一社会信用代码不可修改"
    world.builder.synced = True
    await world.builder.save()
    r = await client.patch(f"{url}/{world.builder.id}", json={"name": "改名"}, headers=auth(gc))
    assert r.status_code == 422
    assert r.json()["message"] == "该单位信息来自施工许可数据，单位名称不可修改"
    # A subcontractor edits only its own row.
    sub_ent = await Enterprise.get(participations__id=sub_id)
    sub = await enterprise_token(redis, sub_ent)
    r = await client.patch(f"{url}/{sub_id}", json={"site_lead": "张三"}, headers=auth(sub))
    assert r.status_code == 200 and r.json()["site_lead"] == "张三"
    r = await client.patch(f"{url}/{world.gc.id}", json={"site_lead": "张三"}, headers=auth(sub))
    assert r.status_code == 403 and r.json()["message"] == "只能编辑本单位的信息"
    r = await client.patch(
        f"{url}/{sub_id}",
        json={"on_site": False, "exit_date": TODAY.isoformat()},
        headers=auth(sub),
    )
    assert r.status_code == 403


async def test_exit_and_reentry(client, redis):
    world = await make_project()
    gc = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/units"
    entry = TODAY - dt.timedelta(days=20)
    r = await client.post(url, json=unit_form(entry_date=entry.isoformat()), headers=auth(gc))
    sub_id = r.json()["id"]
    sub = await ParticipatingUnit.get(id=sub_id)
    member = await make_member(world, unit=sub)
    r = await client.post(
        f"{url}/{sub_id}/exit", json={"exit_date": TODAY.isoformat()}, headers=auth(gc)
    )
    assert r.status_code == 409
    assert r.json()["message"] == "该单位仍有1名在职人员，请先办理人员退场后再将单位退场"
    member.work_status = WorkStatus.LEFT
    await member.save()
    for body, field, message in (
        ({}, "exit_date", "请选择出场日期"),
        (
            {"exit_date": (entry - dt.timedelta(days=1)).isoformat()},
            "exit_date",
            "出场日期不能早于进场日期",
        ),
        (
            {"exit_date": (TODAY + dt.timedelta(days=1)).isoformat()},
            "exit_date",
            "出场日期不能晚于今天",
        ),
    ):
        r = await client.post(f"{url}/{sub_id}/exit", json=body, headers=auth(gc))
        assert r.status_code == 422 and (r.json()["field"], r.json()["message"]) == (field, message)
    assert (await ParticipatingUnit.get(id=sub_id)).on_site is True
    r = await client.post(
        f"{url}/{sub_id}/exit", json={"exit_date": TODAY.isoformat()}, headers=auth(gc)
    )
    assert r.status_code == 200 and r.json()["on_site_label"] == "退场"
    assert r.json()["exit_date"] == TODAY.isoformat()
    r = await client.post(
        f"{url}/{sub_id}/exit", json={"exit_date": TODAY.isoformat()}, headers=auth(gc)
    )
    assert r.status_code == 409 and r.json()["message"] == "该单位已退场"
    # Back on site through 编辑单位 (进场状态).
    r = await client.patch(f"{url}/{sub_id}", data={"on_site": "在场"}, headers=auth(gc))
    assert r.status_code == 200 and r.json()["on_site"] is True and r.json()["exit_date"] is None
    r = await client.patch(
        f"{url}/{sub_id}", json={"exit_date": TODAY.isoformat()}, headers=auth(gc)
    )
    assert r.status_code == 422
    assert r.json()["message"] == "单位在场时不能填写出场日期，请将进场状态改为退场"
    # 编辑单位 can also set 退场 with a date.
    r = await client.patch(
        f"{url}/{sub_id}", json={"on_site": False, "exit_date": TODAY.isoformat()}, headers=auth(gc)
    )
    assert r.status_code == 200 and r.json()["on_site"] is False


async def test_options_list(client, redis):
    world = await make_project()
    token = await enterprise_token(redis, world.enterprises["gc"])
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/units/options", headers=auth(token)
    )
    assert r.status_code == 200 and r.json()["total"] == 3

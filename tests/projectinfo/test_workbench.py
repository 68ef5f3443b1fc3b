"""Workbench (工作台), announcements (通知公告) and the public project query (项目查询)."""

import datetime as dt

from models import Device, DeviceKind, KeyPersonnel, PersonType, Post
from models.announcements import Announcement
from services import pii
from tests.factories import (
    auth,
    enterprise_token,
    make_contract,
    make_id_number,
    make_member,
    make_person,
    make_project,
    regulator_token,
    site_today,
    token_for,
)
from tests.projectinfo.helpers import pdf, voucher
from tests.suite import uid

TODAY = site_today()


async def operator_token(redis):
    from models import Account, AccountKind

    account = await Account.create(kind=AccountKind.OPERATOR, display_name="平台运维")
    return await token_for(redis, account)


async def test_announcements_publish_scope_and_withdraw(client, redis):
    xining = await make_project(region="630102")
    haixi = await make_project(region="632801")
    city = await regulator_token(redis, "630100")
    county = await regulator_token(redis, "630102")
    title = uid("关于开展农民工工资专项检查的通知")
    r = await client.post(
        "/admin/v1/announcements", json={"title": title, "content": "各项目："}, headers=auth(city)
    )
    assert r.status_code == 201 and r.json()["region_name"] == "西宁市"
    aid = r.json()["id"]
    r = await client.get(
        f"/admin/v1/projects/{xining.project.code}/announcements",
        headers=auth(await enterprise_token(redis, xining.enterprises["gc"])),
    )
    assert title in [a["title"] for a in r.json()["data"]]
    r = await client.get(
        f"/admin/v1/projects/{haixi.project.code}/announcements",
        headers=auth(await enterprise_token(redis, haixi.enterprises["gc"])),
    )
    assert title not in [a["title"] for a in r.json()["data"]]
    r = await client.get(
        f"/admin/v1/projects/{haixi.project.code}/announcements/{aid}",
        headers=auth(await enterprise_token(redis, haixi.enterprises["gc"])),
    )
    assert r.status_code == 404
    # A county regulator cannot publish to its city; companies cannot publish at all.
    r = await client.post(
        "/admin/v1/announcements",
        json={"title": "x", "content": "y", "region_code": "630100"},
        headers=auth(county),
    )
    assert r.status_code == 403 and r.json()["message"] == "只能向本辖区发布通知公告"
    gc = await enterprise_token(redis, xining.enterprises["gc"])
    r = await client.post(
        "/admin/v1/announcements", json={"title": "x", "content": "y"}, headers=auth(gc)
    )
    assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind"
    assert await Announcement.filter(title="x").count() == 0
    r = await client.post(
        "/admin/v1/announcements", json={"title": "", "content": "y"}, headers=auth(city)
    )
    assert r.status_code == 422 and r.json()["message"] == "请填写公告标题"
    # Operators publish to every project.
    op = await operator_token(redis)
    everyone = uid("平台升级通知")
    r = await client.post(
        "/admin/v1/announcements", json={"title": everyone, "content": "z"}, headers=auth(op)
    )
    assert r.status_code == 201 and r.json()["region_name"] == "全部项目"
    r = await client.get(
        f"/admin/v1/projects/{haixi.project.code}/announcements",
        headers=auth(await enterprise_token(redis, haixi.enterprises["gc"])),
    )
    assert everyone in [a["title"] for a in r.json()["data"]]
    # Withdrawal: only the region's regulators; hidden from projects afterwards.
    far = await regulator_token(redis, "632800")
    r = await client.delete(f"/admin/v1/announcements/{aid}", headers=auth(far))
    assert r.status_code == 404
    r = await client.delete(f"/admin/v1/announcements/{aid}", headers=auth(city))
    assert r.status_code == 200
    r = await client.get(
        f"/admin/v1/projects/{xining.project.code}/announcements", headers=auth(gc)
    )
    assert title not in [a["title"] for a in r.json()["data"]]
    r = await client.get("/admin/v1/announcements", headers=auth(city))
    assert any(a["id"] == aid and a["withdrawn"] for a in r.json()["data"])


async def test_workbench(client, redis):
    world = await make_project(region="630105")
    code = world.project.code
    gc = await enterprise_token(redis, world.enterprises["gc"])
    # Contract warnings: 31 days (red), 11 days (orange), 6 days (yellow), red but signed.
    await make_member(world, entry_date=TODAY - dt.timedelta(days=31))
    await make_member(world, entry_date=TODAY - dt.timedelta(days=11))
    await make_member(world, entry_date=TODAY - dt.timedelta(days=6))
    signed = await make_member(world, entry_date=TODAY - dt.timedelta(days=40))
    await make_contract(signed, start_date=TODAY)
    await make_member(world, bank_card=None)  # missing wage card
    pm, _, _ = await make_person()
    await make_member(
        world, person=pm, person_type=PersonType.MANAGEMENT, post=Post.PROJECT_MANAGER
    )
    c = pii.cipher()
    now = dt.datetime.now(dt.UTC)
    for sn, last, forced in (
        (uid("SN"), now, False),
        (uid("SN"), now - dt.timedelta(hours=1), False),
        (uid("SN"), now, True),
    ):
        await Device.create(
            sn=sn,
            kind=DeviceKind.ATTENDANCE,
            project=world.project,
            secret_enc=c.encrypt("s"),
            last_attendance_at=last,
            forced_offline=forced,
        )
    # Materials: an escrow agreement with its file, an account-opening row without one.
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/attachments", files={"file": pdf()}, headers=auth(gc)
    )
    fid = r.json()["id"]
    await client.post(
        f"/admin/v1/projects/{code}/materials/wage-account/escrow_agreement",
        json={
            "party_a_unit_id": world.builder.id,
            "party_b_unit_id": world.gc.id,
            "bank_name": "建行",
            "file_id": fid,
        },
        headers=auth(gc),
    )
    await client.post(
        f"/admin/v1/projects/{code}/materials/wage-account/account_opening",
        json={
            "unit_id": world.gc.id,
            "bank_name": "建行",
            "bank_branch_code": "105851000010",
            "account_name": "专户",
        },
        headers=auth(gc),
    )
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/monthly/{TODAY.year}/{TODAY.month}",
        json={"items": [voucher("receipt", world.gc.id, fid, TODAY)]},
        headers=auth(gc),
    )
    assert r.status_code == 201
    r = await client.post(
        "/admin/v1/announcements",
        json={"title": "城北区通知", "content": "x"},
        headers=auth(await regulator_token(redis, "630105")),
    )
    await client.post(
        f"/admin/v1/projects/{code}/status-changes",
        json={"to_status": "停工", "reason": "冬季停工"},
        headers=auth(gc),
    )

    r = await client.get(f"/admin/v1/projects/{code}/workbench", headers=auth(gc))
    assert r.status_code == 200, r.text
    wb = r.json()
    cards = {m["label"]: m["state_label"] for m in wb["materials"]}
    assert cards == {
        "资金托管三方协议": "已上传",
        "专用账户开户函": "未上传",
        "工程款支付担保函": "未上传",
        "工资保证金缴纳凭证": "未上传",
    }
    todo = {i["key"]: i["count"] for i in wb["todos"]["items"]}
    assert todo["contract_red"] == 1 and todo["contract_orange"] == 1
    assert wb["todos"]["contract_warnings"]["yellow"] == 1
    assert todo["offline_devices"] == 2 and todo["missing_wage_card"] == 1
    assert todo["status_change_reviews"] == 0
    assert "on_site_total" in wb["attendance"]
    months = wb["monthly_reports"]["months"]
    assert len(months) == 12 and [m["month"] for m in months if m["registered"]] == [TODAY.month]
    assert "城北区通知" in [a["title"] for a in wb["announcements"]["data"]]
    assert [p["code"] for p in wb["my_projects"]] == [code] and wb["my_projects"][0]["current"]
    # Another year: nothing registered.
    r = await client.get(
        f"/admin/v1/projects/{code}/workbench", params={"year": 2001}, headers=auth(gc)
    )
    assert not any(m["registered"] for m in r.json()["monthly_reports"]["months"])
    r = await client.get(
        f"/admin/v1/projects/{code}/workbench", params={"year": "abc"}, headers=auth(gc)
    )
    assert r.status_code == 422
    # The county regulator sees the status-change review waiting for it.
    reg = await regulator_token(redis, "630105")
    r = await client.get(f"/admin/v1/projects/{code}/workbench", headers=auth(reg))
    todo = {i["key"]: i["count"] for i in r.json()["todos"]["items"]}
    assert todo["status_change_reviews"] == 1
    # Strangers and other projects' companies are refused.
    other = await make_project()
    r = await client.get(
        f"/admin/v1/projects/{code}/workbench",
        headers=auth(await enterprise_token(redis, other.enterprises["gc"])),
    )
    assert r.status_code == 404
    r = await client.get(f"/admin/v1/projects/{code}/workbench")
    assert r.status_code == 401


async def test_public_query(client_at, redis):
    world = await make_project()
    number = make_id_number()
    c = pii.cipher()
    await KeyPersonnel.create(
        project=world.project,
        role="project_manager",
        name="赵经理",
        id_number_enc=c.encrypt(number),
        id_number_bidx=c.blind_index("id", number),
        unit=world.gc,
    )
    # Its own address: the public query is rate-limited per client IP (the socket peer).
    client = client_at(f"10.1.{TODAY.day}.{world.project.id % 250}")
    headers: dict[str, str] = {}
    r = await client.get(
        "/admin/v1/public/projects",
        params={"permit_number": world.project.permit_number},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 1
    row = r.json()["data"][0]
    assert row["name"] == world.project.name and "code" not in row
    assert [u["role_label"] for u in row["units"]] == ["建设单位", "监理单位", "施工总承包单位"]
    assert row["units"][2]["credit_code"] == world.enterprises["gc"].credit_code
    assert row["key_personnel"] == [
        {"role": "project_manager", "role_label": "项目经理", "name": "赵经理"}
    ]
    text = r.text
    assert number not in text and pii.mask_id_number(number) not in text
    r = await client.get(
        "/admin/v1/public/projects", params={"name": world.project.name[2:]}, headers=headers
    )
    assert r.json()["total"] == 1
    for params, message in (
        ({}, "请输入项目名称或施工许可证号"),
        ({"name": "项"}, "项目名称至少输入2个字"),
        ({"name": "项目", "page_size": 50}, "每页条数不能大于20"),
        ({"name": "项目", "unit": "x"}, "不支持的查询参数：unit"),
    ):
        r = await client.get("/admin/v1/public/projects", params=params, headers=headers)
        assert r.status_code == 422 and r.json()["message"] == message
    r = await client.get(
        "/admin/v1/public/projects", params={"permit_number": "nope"}, headers=headers
    )
    assert r.json() == {"data": [], "total": 0}


async def test_public_query_rate_limited(client_at):
    client = client_at(f"10.9.{int(uid()[:6], 16) % 250}.7")
    headers: dict[str, str] = {}
    from services.public_query import PUBLIC_QUERY

    codes = []
    for _ in range(PUBLIC_QUERY.limit + 1):
        r = await client.get(
            "/admin/v1/public/projects", params={"permit_number": "x"}, headers=headers
        )
        codes.append(r.status_code)
    assert codes[-1] == 429 and set(codes[:-1]) == {200}
    assert r.json()["message"] == "查询过于频繁，请稍后再试"

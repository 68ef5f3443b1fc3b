"""Project materials: monthly reports, vouchers by month, the five wage-account materials."""

import datetime as dt

from models.materials import MaterialVoucher, MonthlyReport, WageAccountMaterial
from services import localtime
from tests.factories import auth, enterprise_token, make_project, regulator_token
from tests.projectinfo.helpers import EXE, pdf, voucher

TODAY = localtime.today(localtime.zone("Asia/Shanghai"))  # the test projects' today
Y, M = TODAY.year, TODAY.month


async def upload(client, code, token, name="凭证.pdf"):
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/attachments",
        files={"file": pdf(name)},
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def setup():
    world = await make_project()
    return world, world.project.code


async def test_monthly_report_register_and_overview(client, redis):
    world, code = await setup()
    token = await enterprise_token(redis, world.enterprises["gc"])
    f1, f2, f3 = [await upload(client, code, token) for _ in range(3)]
    gc = world.gc.id
    items = [
        voucher("contract", gc, f1, dt.date(2020, 1, 1), "1000000", number="HT-01"),
        voucher("receipt", gc, f2, TODAY, "50000.5", counterparty="建设单位"),
        voucher("payment", gc, f3, TODAY, "1200", counterparty="西宁钢材公司"),
    ]
    url = f"/admin/v1/projects/{code}/materials/monthly/{Y}/{M}"
    r = await client.post(url, json={"items": items}, headers=auth(token))
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["contracts"]) == len(body["receipts"]) == len(body["payments"]) == 1
    assert body["receipts"][0]["amount"] == "50000.50"
    assert body["registered_by"] == world.enterprises["gc"].name
    assert body["payments"][0]["file"]["url"].startswith(f"/admin/v1/projects/{code}/files/")
    r = await client.get(
        f"/admin/v1/projects/{code}/materials/monthly", params={"year": Y}, headers=auth(token)
    )
    months = r.json()["data"]
    assert len(months) == 12 and months[M - 1]["registered"] is True
    assert months[M - 1]["item_count"] == 3
    assert sum(m["registered"] for m in months) == 1 and months[M - 1]["state_label"] == "已登记"
    # Registering the same month again is refused; lines can be added.
    r = await client.post(url, json={"items": items}, headers=auth(token))
    assert r.status_code == 409 and "已登记" in r.json()["message"]
    r = await client.post(
        f"{url}/items", json={"items": [dict(items[1], amount="10")]}, headers=auth(token)
    )
    assert r.status_code == 201 and len(r.json()["receipts"]) == 2
    # Voucher list pages by kind and month, with totals.
    r = await client.get(
        f"/admin/v1/projects/{code}/materials/vouchers",
        params={"kind": "receipt", "month": f"{Y}-{M:02d}"},
        headers=auth(token),
    )
    assert r.json()["total"] == 2 and r.json()["total_amount"] == "50010.50"
    r = await client.get(
        f"/admin/v1/projects/{code}/materials/vouchers",
        params={"kind": "payment"},
        headers=auth(token),
    )
    assert r.json()["total"] == 1 and r.json()["data"][0]["counterparty"] == "西宁钢材公司"
    vid = r.json()["data"][0]["id"]
    r = await client.delete(
        f"/admin/v1/projects/{code}/materials/vouchers/{vid}", headers=auth(token)
    )
    assert r.status_code == 200
    assert (await MaterialVoucher.get(id=vid)).deleted_at is not None  # kept (rule 12)
    r = await client.get(
        f"/admin/v1/projects/{code}/materials/vouchers",
        params={"kind": "payment"},
        headers=auth(token),
    )
    assert r.json()["total"] == 0


async def test_monthly_report_refusals_change_nothing(client, redis):
    world, code = await setup()
    other = await make_project()
    token = await enterprise_token(redis, world.enterprises["gc"])
    fid = await upload(client, code, token)
    other_token = await enterprise_token(redis, other.enterprises["gc"])
    foreign_file = await upload(client, other.project.code, other_token)
    good = voucher("receipt", world.gc.id, fid, TODAY, "100")
    url = f"/admin/v1/projects/{code}/materials/monthly/{Y}/{M}"
    cases = [
        ({"items": []}, "items", "请至少添加一项合同或收付款凭证"),
        (
            {"items": [dict(good, unit_id=other.gc.id)]},
            "items[0].unit_id",
            "所选收款单位不是本项目已登记的参建单位，分包单位需要先在参建单位页面登记",
        ),
        ({"items": [dict(good, unit_id=None)]}, "items[0].unit_id", "请选择收款单位"),
        ({"items": [dict(good, amount="-5")]}, "items[0].amount", "收款金额(元)应大于0"),
        ({"items": [dict(good, amount="abc")]}, "items[0].amount", "收款金额(元)应为数字"),
        (
            {"items": [dict(good, amount="1.234")]},
            "items[0].amount",
            "收款金额(元)最多保留两位小数",
        ),
        (
            {"items": [dict(good, date="2001-01-01")]},
            "items[0].date",
            f"收款日期应在{Y}年{M:02d}月内",
        ),
        ({"items": [dict(good, file_id=None)]}, "items[0].file_id", "请上传收款凭证文件"),
        (
            {"items": [dict(good, file_id=foreign_file)]},
            "items[0].file_id",
            "附件不存在或不属于本项目，请重新上传",
        ),
        (
            {"items": [dict(good, kind="payment")]},
            "items[0].counterparty",
            "请填写收款方（材料供应商）",
        ),
        (
            {"items": [dict(good, kind="bogus")]},
            "items[0].kind",
            "材料类型应为 contract / receipt / payment",
        ),
        ({"items": [good, dict(good, amount="0")]}, "items[1].amount", "收款金额(元)应大于0"),
    ]
    for body, field, message in cases:
        r = await client.post(url, json=body, headers=auth(token))
        assert r.status_code == 422, (field, r.text)
        assert (r.json()["field"], r.json()["message"]) == (field, message)
    nxt = TODAY.replace(day=1) + dt.timedelta(days=32)
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/monthly/{nxt.year}/{nxt.month}",
        json={"items": [good]},
        headers=auth(token),
    )
    assert r.status_code == 422 and r.json()["message"] == "不能登记未来月份的材料月报"
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/monthly/{Y}/13",
        json={"items": [good]},
        headers=auth(token),
    )
    assert r.status_code == 422 and r.json()["message"] == "月份应在1到12之间"
    r = await client.post(f"{url}/items", json={"items": [good]}, headers=auth(token))
    assert r.status_code == 404 and r.json()["code"] == "report_not_found"
    assert await MonthlyReport.filter(project_id=world.project.id).count() == 0
    assert await MaterialVoucher.filter(project_id=world.project.id).count() == 0
    # Bad attachment types are refused.
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/attachments",
        files={"file": ("x.pdf", EXE, "application/pdf")},
        headers=auth(token),
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_file_type"
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/attachments", data={"a": "b"}, headers=auth(token)
    )
    assert r.status_code == 422 and r.json()["message"] == "请选择要上传的文件"


ESCROW_FIELDS = (
    "甲方",
    "乙方",
    "丙方（开户银行）",
    "资金托管协议号或合同编号",
    "工资预付款占合同价最低比例",
    "工资月执行金额占进度款最低比例",
)


async def test_wage_account_materials(client, redis):
    world, code = await setup()
    token = await enterprise_token(redis, world.enterprises["gc"])
    base = f"/admin/v1/projects/{code}/materials/wage-account"
    r = await client.get(base, headers=auth(token))
    assert r.status_code == 200
    assert r.json()["counts"] == {
        "escrow_agreement": 0,
        "account_opening": 0,
        "wage_deposit": 0,
        "payment_guarantee": 0,
        "gc_payroll_agreement": 0,
    }
    labels = [k["label"] for k in r.json()["kinds"]]
    assert labels == [
        "资金托管协议",
        "农民工工资专户开户单",
        "工资保证金",
        "工程款支付担保",
        "总包代发协议",
    ]
    assert tuple(f["label"] for f in r.json()["kinds"][0]["fields"]) == ESCROW_FIELDS
    fid = await upload(client, code, token)
    escrow = {
        "party_a_unit_id": world.builder.id,
        "party_b_unit_id": world.gc.id,
        "bank_name": "中国建设银行西宁分行",
        "agreement_no": "TG-2026-01",
        "advance_min_ratio": "2.5",
        "monthly_min_ratio": "20",
        "file_id": fid,
    }
    r = await client.post(f"{base}/escrow_agreement", json=escrow, headers=auth(token))
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["party_a_unit_name"] == world.enterprises["builder"].name
    assert row["monthly_min_ratio"] == "20" and row["file"]["name"] == "凭证.pdf"
    assert row["registered_by"] == world.enterprises["gc"].name and row["registered_at"]
    bodies = {
        "escrow_agreement": escrow,
        "account_opening": {
            "agreement_no": "TG-2026-01",
            "unit_id": world.gc.id,
            "bank_name": "建设银行",
            "bank_branch_code": "105851000010",
            "account_name": "某项目农民工工资专用账户",
        },
        "wage_deposit": {
            "unit_id": world.gc.id,
            "deposit_method": "银行保函",
            "institution": "工商银行",
            "amount": "300000",
            "start_date": "2026-01-01",
            "end_date": "2027-01-01",
        },
        "payment_guarantee": {
            "unit_id": world.builder.id,
            "guarantee_method": "银行保函",
            "institution": "农业银行",
            "amount": "1000000",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
        "gc_payroll_agreement": {
            "party_a_unit_id": world.gc.id,
            "party_b_unit_id": world.supervisor.id,
            "signed_on": "2026-02-01",
        },
    }
    for kind, body in list(bodies.items())[1:]:  # the escrow agreement was registered above
        r = await client.post(f"{base}/{kind}", json=body, headers=auth(token))
        assert r.status_code == 201, (kind, r.text)
    r = await client.get(base, headers=auth(token))
    assert set(r.json()["counts"].values()) == {1}
    assert r.json()["kinds"][1]["data"][0]["bank_branch_code"] == "105851000010"

    # (kind, the one field sent wrong, its value, the message naming it)
    cases = [
        (
            "escrow_agreement",
            "monthly_min_ratio",
            "120",
            "工资月执行金额占进度款最低比例应在0到100之间",
        ),
        ("escrow_agreement", "advance_min_ratio", "-1", "工资预付款占合同价最低比例应在0到100之间"),
        ("escrow_agreement", "advance_min_ratio", "abc", "工资预付款占合同价最低比例应为数字"),
        ("escrow_agreement", "bank_name", "", "请填写丙方（开户银行）"),
        ("escrow_agreement", "party_b_unit_id", world.builder.id, "甲方和乙方不能是同一单位"),
        (
            "escrow_agreement",
            "party_a_unit_id",
            999999999,
            "所选甲方不是本项目已登记的参建单位，分包单位需要先在参建单位页面登记",
        ),
        ("account_opening", "bank_branch_code", "12345", "联行号应为12位数字"),
        (
            "account_opening",
            "agreement_no",
            "NOPE",
            "关联的资金托管协议号不存在，请先登记资金托管协议",
        ),
        ("wage_deposit", "amount", "0", "存款或担保/保单金额(元)应大于0"),
        (
            "wage_deposit",
            "deposit_method",
            "现金",
            "保证金缴纳方式应为：现金存储、银行保函、工程担保公司保函、工程保证保险",
        ),
        ("wage_deposit", "institution", "", "保函或保险方式缴纳时请填写担保/保险机构"),
        ("wage_deposit", "end_date", "2025-01-01", "结束日期不能早于开始日期"),
        ("payment_guarantee", "start_date", "", "请选择担保开始日期"),
        ("gc_payroll_agreement", "signed_on", "2026/02/01", "签订日期格式应为 YYYY-MM-DD"),
        ("escrow_agreement", "file_id", 123456789, "附件不存在或不属于本项目，请重新上传"),
    ]
    before = await WageAccountMaterial.filter(project_id=world.project.id).count()
    for kind, field, value, message in cases:
        body = dict(bodies[kind], **{field: value})
        r = await client.post(f"{base}/{kind}", json=body, headers=auth(token))
        assert r.status_code == 422, (field, r.text)
        assert (r.json()["field"], r.json()["message"]) == (field, message)
    assert await WageAccountMaterial.filter(project_id=world.project.id).count() == before
    # Cash deposits need no institution.
    r = await client.post(
        f"{base}/wage_deposit",
        json=dict(bodies["wage_deposit"], deposit_method="现金存储", institution=""),
        headers=auth(token),
    )
    assert r.status_code == 201
    r = await client.post(f"{base}/nonsense", json={}, headers=auth(token))
    assert r.status_code == 404 and r.json()["message"] == "材料类型不存在"
    r = await client.get(base, params={"kind": "wage_deposit"}, headers=auth(token))
    rows = r.json()["kinds"][0]["data"]
    assert len(rows) == 2 and rows[1]["deposit_method"] == "现金存储"
    r = await client.delete(f"{base}/wage_deposit/{rows[0]['id']}", headers=auth(token))
    assert r.status_code == 200
    r = await client.get(base, headers=auth(token))
    assert r.json()["counts"]["wage_deposit"] == 1


async def test_materials_access(client, redis):
    a, b = await make_project(), await make_project()
    token_a = await enterprise_token(redis, a.enterprises["gc"])
    code_b = b.project.code
    for method, path in (
        ("get", "materials/monthly"),
        ("get", "materials/wage-account"),
        ("get", "materials/vouchers"),
        ("post", f"materials/monthly/{Y}/{M}"),
        ("post", "materials/wage-account/escrow_agreement"),
    ):
        r = await client.request(
            method.upper(), f"/admin/v1/projects/{code_b}/{path}", json={}, headers=auth(token_a)
        )
        assert r.status_code == 404, path
    # A line of project B cannot be deleted through project A.
    token_b = await enterprise_token(redis, b.enterprises["gc"])
    fid = await upload(client, code_b, token_b)
    r = await client.post(
        f"/admin/v1/projects/{code_b}/materials/monthly/{Y}/{M}",
        json={"items": [voucher("receipt", b.gc.id, fid, TODAY)]},
        headers=auth(token_b),
    )
    vid = r.json()["receipts"][0]["id"]
    r = await client.delete(
        f"/admin/v1/projects/{a.project.code}/materials/vouchers/{vid}", headers=auth(token_a)
    )
    assert r.status_code == 404
    # Regulators see but cannot register.
    reg = await regulator_token(redis, b.project.region_id)
    r = await client.get(f"/admin/v1/projects/{code_b}/materials/monthly", headers=auth(reg))
    assert r.status_code == 200
    r = await client.post(
        f"/admin/v1/projects/{code_b}/materials/wage-account/escrow_agreement",
        json={},
        headers=auth(reg),
    )
    assert r.status_code == 403


async def test_post_personnel_register_and_view_only_posts(client, redis):
    from models import PersonType, Post
    from tests.factories import make_member, make_person, person_token

    world, code = await setup()
    pm, _, _ = await make_person(name="赵项目经理")
    await make_member(
        world, person=pm, person_type=PersonType.MANAGEMENT, post=Post.PROJECT_MANAGER
    )
    deputy, _, _ = await make_person()
    await make_member(
        world,
        person=deputy,
        person_type=PersonType.MANAGEMENT,
        post=Post.DEPUTY_CHIEF_SUPERVISOR,
        unit=world.supervisor,
    )
    pm_token = await person_token(redis, pm)
    body = {"unit_id": world.gc.id, "deposit_method": "现金存储", "amount": "100"}
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/wage-account/wage_deposit",
        json=body,
        headers=auth(pm_token),
    )
    assert r.status_code == 201 and r.json()["registered_by"] == "赵项目经理"
    deputy_token = await person_token(redis, deputy)
    r = await client.get(
        f"/admin/v1/projects/{code}/materials/wage-account", headers=auth(deputy_token)
    )
    assert r.status_code == 200 and r.json()["counts"]["wage_deposit"] == 1
    r = await client.post(
        f"/admin/v1/projects/{code}/materials/wage-account/wage_deposit",
        json=body,
        headers=auth(deputy_token),
    )
    assert r.status_code == 403 and r.json()["message"] == "您在该项目中无权进行此操作"

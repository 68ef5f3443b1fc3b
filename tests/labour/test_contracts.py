"""Contracts (合同管理): rule 4 warnings on the day boundaries, tabs, upload, edit, terminate,
delete-and-re-sign, punches blocked at red, attachments, scoping."""

import datetime as dt
from urllib.parse import quote

import pytest
from tortoise import connections

from models import PersonType, Post
from models.contracts import ContractStatus, LabourContract
from realname.contract import Page
from services import contracts, localtime, rules
from services.schemas.contracts import ContractPage, UnsignedRow
from tests.factories import auth, enterprise_token, make_member, make_person, make_project
from tests.labour.helpers import PDF, PNG, add_subcontractor, gc_world, headers_for

D0 = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("days", "level"),
    [
        (0, None),
        (5, None),
        (6, "yellow"),
        (10, "yellow"),
        (11, "orange"),
        (30, "orange"),
        (31, "red"),
        (400, "red"),
    ],
)
def test_warning_day_boundaries(days, level):
    assert contracts.warning_level(D0, False, D0 + dt.timedelta(days=days)) == level
    assert contracts.warning_level(D0, True, D0 + dt.timedelta(days=days)) is None


def base(world) -> str:
    return f"/admin/v1/projects/{world.project.code}"


async def _terminate(client, world, headers, contract_id, **body):
    """解约: POST the termination (type, reason, initiated and confirmed times) of a contract."""
    return await client.post(
        f"{base(world)}/contracts/{contract_id}/terminate", headers=headers, json=body
    )


def form(**fields):
    return {k: str(v) for k, v in fields.items()}


async def _sign(client, world, h, member, number="HT-1", attachment=PDF, **over):
    data = form(
        **{
            "member_id": member.id,
            "number": number,
            "party_a": "青海瀚阳项目管理咨询有限公司",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            **over,
        }
    )
    files = {"attachment": ("劳动合同.pdf", attachment, "application/pdf")} if attachment else None
    return await client.post(f"{base(world)}/contracts", headers=h, data=data, files=files)


async def test_unsigned_tab_shows_warning_levels_on_boundaries(client, redis):
    world, h = await gc_world(redis)
    today = localtime.project_today(world.project)
    members = {
        d: await make_member(world, entry_date=today - dt.timedelta(days=d))
        for d in (5, 6, 10, 11, 30, 31)
    }
    mgmt = await make_member(
        world,
        person_type=PersonType.MANAGEMENT,
        post=Post.LABOUR_OFFICER,
        entry_date=today - dt.timedelta(days=60),
    )
    r = await client.get(f"{base(world)}/contracts/unsigned?page_size=50", headers=h)
    assert r.status_code == 200
    Page[UnsignedRow].model_validate_json(r.content, strict=True)  # the declared reply
    rows = {row["id"]: row for row in r.json()["data"]}
    assert mgmt.id not in rows  # only labour members sign labour contracts
    expected = {5: None, 6: "yellow", 10: "yellow", 11: "orange", 30: "orange", 31: "red"}
    for days, level in expected.items():
        row = rows[members[days].id]
        assert row["contract_warning"] == level, days
        assert row["contract_status_label"] == "未签约"
    assert rows[members[31].id]["contract_warning_label"] == "红色预警"
    # most overdue first
    assert r.json()["data"][0]["id"] == members[31].id
    for level, days in (("red", {31}), ("orange", {11, 30}), ("yellow", {6, 10})):
        r = await client.get(f"{base(world)}/contracts/unsigned?warning={level}", headers=h)
        assert {row["id"] for row in r.json()["data"]} == {members[d].id for d in days}
    r = await client.get(f"{base(world)}/contracts/warnings", headers=h)
    assert r.json()["counts"] == {"yellow": 2, "orange": 2, "red": 1}
    # visible on the member too
    r = await client.get(f"{base(world)}/members/{members[11].id}", headers=h)
    assert r.json()["contract_warning"] == "orange"


async def test_red_blocks_punches_until_signed(client, redis):
    world, h = await gc_world(redis)
    today = localtime.project_today(world.project)
    day30 = await make_member(world, entry_date=today - dt.timedelta(days=30))
    day31 = await make_member(world, entry_date=today - dt.timedelta(days=31))
    no_card = await make_member(world, bank_card=None)
    no_type = await make_member(world, work_type="")
    manager = await make_member(
        world,
        person_type=PersonType.MANAGEMENT,
        post=Post.PROJECT_MANAGER,
        bank_card=None,
        entry_date=today - dt.timedelta(days=90),
    )
    reasons = await rules.punch_block_reasons([day30, day31, no_card, no_type, manager], today)
    assert reasons == {
        day31.id: rules.CONTRACT_RED,
        no_card.id: rules.MISSING_WAGE_CARD,
        no_type.id: rules.MISSING_WAGE_CARD,
    }
    r = await _sign(client, world, h, day31)
    assert r.status_code == 201, r.text
    assert await rules.punch_block_reasons([day31], today) == {}
    # terminated: no contract in force any more → red again
    r = await _terminate(
        client, world, h, r.json()["id"], termination_type="协商解约", termination_reason="离职解约"
    )
    assert r.status_code == 200
    assert await rules.punch_block_reasons([day31], today) == {day31.id: rules.CONTRACT_RED}


async def test_upload_validation_and_refusals(client, redis):
    world, h = await gc_world(redis)
    member = await make_member(world)
    r = await _sign(client, world, h, member, attachment=None)
    assert r.status_code == 422 and r.json()["message"] == "请上传合同附件"
    r = await _sign(client, world, h, member, attachment=b"MZ\x90\x00not a document")
    assert r.status_code == 422 and r.json()["code"] == "invalid_file_type"
    r = await _sign(client, world, h, member, number="")
    assert r.status_code == 422 and r.json()["message"] == "请填写合同编号"
    r = await _sign(client, world, h, member, end_date="2025-01-01")
    assert r.status_code == 422 and r.json()["message"] == "合同截止日期不能早于合同开始日期"
    r = await _sign(client, world, h, member, start_date="2026-13-01")
    assert r.status_code == 422 and r.json()["field"] == "start_date"
    assert not await LabourContract.filter(member=member).exists()
    r = await _sign(client, world, h, member)
    assert r.status_code == 201
    body = r.json()
    assert body["status_label"] == "履约中" and body["attachment"]["name"] == "劳动合同.pdf"
    r = await _sign(client, world, h, member, number="HT-2")
    assert r.status_code == 409
    assert r.json()["message"] == "该人员已有履约中的合同，如需重签请先删除或解约"
    mgmt = await make_member(world, person_type=PersonType.MANAGEMENT, post=Post.SAFETY_OFFICER)
    r = await _sign(client, world, h, mgmt)
    assert r.status_code == 409 and r.json()["message"] == "仅劳务人员需要上传劳动合同"
    left = await make_member(world, work_status="left")
    r = await _sign(client, world, h, left)
    assert r.status_code == 409 and r.json()["message"] == "该人员已离职，不能签约"


async def test_edit_terminate_delete_and_resign(client, redis):
    world, h = await gc_world(redis)
    person, number, phone = await make_person(name="郭涛")
    member = await make_member(world, person=person)
    cid = (await _sign(client, world, h, member)).json()["id"]
    r = await client.patch(
        f"{base(world)}/contracts/{cid}",
        headers=h,
        json={"party_a": "新甲方", "end_date": "2027-06-30"},
    )
    assert r.status_code == 200 and r.json()["party_a"] == "新甲方"
    assert r.json()["end_date"] == "2027-06-30"
    start = r.json()["start_date"]
    # PATCH: a field sent null is refused, an end sent empty clears it, the rest stay
    r = await client.patch(f"{base(world)}/contracts/{cid}", headers=h, json={"number": None})
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("required", "number")
    r = await client.patch(f"{base(world)}/contracts/{cid}", headers=h, json={"end_date": ""})
    assert r.status_code == 200 and r.json()["end_date"] is None
    assert (r.json()["start_date"], r.json()["party_a"]) == (start, "新甲方")
    r = await client.patch(
        f"{base(world)}/contracts/{cid}",
        headers=h,
        data=form(number="HT-9"),
        files={"attachment": ("scan.png", PNG, "image/png")},
    )
    assert r.status_code == 200 and r.json()["attachment"]["name"] == "scan.png"
    # delete to re-sign
    r = await client.delete(f"{base(world)}/contracts/{cid}", headers=h)
    assert r.status_code == 200
    assert (await LabourContract.get(id=cid)).deleted_at is not None
    r = await client.get(f"{base(world)}/contracts/unsigned", headers=h)
    assert member.id in {row["id"] for row in r.json()["data"]}
    r = await _sign(client, world, h, member, number="HT-10")
    assert r.status_code == 201
    cid = r.json()["id"]
    # terminate
    r = await _terminate(client, world, h, cid, termination_type="", termination_reason="x")
    assert r.status_code == 422 and r.json()["message"] == "请选择解约类型"
    r = await _terminate(
        client, world, h, cid, termination_type="单方面跑路", termination_reason="x"
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_termination_type"
    r = await _terminate(client, world, h, cid, termination_type="甲方解约")
    assert r.status_code == 422 and r.json()["message"] == "请填写解约原因"
    ended = {"termination_type": "甲方解约", "termination_reason": "离职解约"}
    times = {"initiated_at": "2026-07-20 10:00:00", "confirmed_at": "2026-07-19 10:00:00"}
    r = await _terminate(client, world, h, cid, **ended, **times)
    assert r.status_code == 422 and r.json()["message"] == "确认解约时间不能早于发起解约时间"
    assert (await LabourContract.get(id=cid)).status == ContractStatus.ACTIVE
    times = {"initiated_at": "2026-07-20", "confirmed_at": "2026-07-20"}
    r = await _terminate(client, world, h, cid, **ended, **times)
    assert r.status_code == 200, r.text
    # China time, stored as UTC like every timestamp: SQLite keeps and compares the text
    stored = (await LabourContract.get(id=cid)).termination_confirmed_at
    assert stored == dt.datetime(2026, 7, 19, 16, tzinfo=dt.UTC)
    (raw,) = await connections.get("default").execute_query_dict(
        f"SELECT termination_confirmed_at AS t FROM labour_contract WHERE id = {int(cid)}"
    )
    assert not isinstance(raw["t"], str) or raw["t"].endswith("+00:00"), raw
    r = await _terminate(client, world, h, cid, termination_type="甲方解约", termination_reason="x")
    assert r.status_code == 409 and r.json()["message"] == "该合同已解约"
    r = await client.patch(f"{base(world)}/contracts/{cid}", headers=h, json={"number": "x"})
    assert r.status_code == 409 and r.json()["message"] == "只能编辑履约中的合同"
    r = await client.delete(f"{base(world)}/contracts/{cid}", headers=h)
    assert r.status_code == 409 and r.json()["message"] == "已解约的合同不能删除"
    # 已解约 tab with the manual's columns, searchable by name / ID number / contract number
    r = await client.get(f"{base(world)}/contracts?status=terminated", headers=h)
    rows = r.json()["data"]
    assert len(rows) == 1
    ContractPage.model_validate_json(r.content, strict=True)  # the declared reply
    row = rows[0]
    for key in (
        "seq",
        "number",
        "name",
        "id_number",
        "phone",
        "party_a",
        "start_date",
        "end_date",
        "termination_type",
        "termination_reason",
        "termination_initiated_at",
        "termination_confirmed_at",
        "attachment",
    ):
        assert key in row
    assert row["name"] == "郭涛" and row["number"] == "HT-10" and row["id_number"] == number
    assert row["termination_type"] == "甲方解约" and row["seq"] == 1
    for q in ("郭涛", number, "HT-10"):
        r = await client.get(
            f"{base(world)}/contracts", headers=h, params={"status": "terminated", "q": q}
        )
        assert r.json()["total"] == 1, q
    r = await client.get(f"{base(world)}/contracts?status=active", headers=h)
    assert r.json()["total"] == 0
    # attachment download through the project's file endpoint
    fid = row["attachment"]["id"]
    r = await client.get(f"{base(world)}/files/{fid}", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == PDF
    assert quote("劳动合同.pdf") in r.headers["content-disposition"]


async def test_contract_scoping_and_masking(client, redis):
    world, other = await make_project(), await make_project()
    h = await headers_for(redis, world, "gc")
    person, number, phone = await make_person()
    member = await make_member(world, person=person)
    cid = (await _sign(client, world, h, member)).json()["id"]
    # the builder sees the row masked, cannot edit the GC's contract
    bh = await headers_for(redis, world, "builder")
    r = await client.get(f"{base(world)}/contracts", headers=bh)
    row = r.json()["data"][0]
    assert row["id_number"] != number and row["id_number"].count("*") == 5
    assert row["phone"] == phone[:3] + "****" + phone[-4:]
    r = await _terminate(
        client, world, bh, cid, termination_type="甲方解约", termination_reason="x"
    )
    assert r.status_code == 403
    # another project's GC, through its own project, cannot touch it
    oh = await headers_for(redis, other, "gc")
    for method, path in (("PATCH", f"/contracts/{cid}"), ("DELETE", f"/contracts/{cid}")):
        r = await client.request(method, f"{base(other)}{path}", headers=oh, json={})
        assert r.status_code == 404
    r = await client.get(f"{base(other)}/contracts", headers=oh)
    assert r.json()["total"] == 0
    r = await _sign(client, other, oh, member)
    assert r.status_code == 404
    # a subcontractor of this project does not see the GC's contracts or people
    sub = await add_subcontractor(world)
    sh = auth(await enterprise_token(redis, sub.enterprise))
    r = await client.get(f"{base(world)}/contracts", headers=sh)
    assert r.json()["total"] == 0
    r = await client.get(f"{base(world)}/contracts/unsigned", headers=sh)
    assert r.json()["total"] == 0
    r = await client.delete(f"{base(world)}/contracts/{cid}", headers=sh)
    assert r.status_code == 404

"""Team member import from the .xlsx template: row-level errors, valid rows imported."""

import datetime as dt
import io

import openpyxl

from models import ProjectMember, Team
from services.schemas.labour import TeamImportResult
from tests.factories import make_member, make_person, make_project
from tests.labour.helpers import (
    BRANCH,
    CARD,
    PDF,
    gc_world,
    headers_for,
    team_workbook,
    unenrolled_person,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def base(world) -> str:
    return f"/admin/v1/projects/{world.project.code}"


async def _post(client, world, h, data, name="导入.xlsx", team=None):
    team = team or world.team
    return await client.post(
        f"{base(world)}/teams/{team.id}/import", headers=h, files={"file": (name, data, XLSX)}
    )


async def test_template_has_chinese_headers(client, redis):
    world, h = await gc_world(redis)
    r = await client.get(f"{base(world)}/teams/import-template", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    header = next(wb.worksheets[0].iter_rows(values_only=True))
    assert header == ("身份证号", "姓名", "工种", "工资卡银行", "工资卡号", "联行号", "进场日期")
    assert "钢筋工" in [c[0] for c in wb["工种列表"].iter_rows(values_only=True)]
    bh = await headers_for(redis, world, "builder")  # builder holds MANAGE on the project
    r = await client.get(f"{base(world)}/teams/import-template", headers=bh)
    assert r.status_code == 200


async def test_import_reports_row_errors_and_imports_valid_rows(client, redis):
    world, h = await gc_world(redis)
    ok1, n1, _ = await make_person()
    ok2, n2, _ = await make_person()
    _, raw = await unenrolled_person()
    wrong_name, n4, _ = await make_person()
    active, n5, _ = await make_person()
    await make_member(world, person=active)
    left, n6, _ = await make_person()
    left_member = await make_member(world, person=left, work_status="left")
    d = dt.date(2026, 1, 5)
    rows = [
        (n1, ok1.name, "钢筋工", "中国工商银行", CARD, BRANCH, d),  # 2: ok
        (n2, ok2.name, "木工", "中国银行", CARD, int(BRANCH), "2026-01-06"),  # 3: ok
        (raw, "张三", "木工", "中国银行", CARD, BRANCH, None),  # 4: not enrolled
        (n4, "别人", "木工", "中国银行", CARD, BRANCH, None),  # 5: name mismatch
        (n5, active.name, "木工", "中国银行", CARD, BRANCH, None),  # 6: already active
        (n1, ok1.name, "木工", "中国银行", CARD, BRANCH, None),  # 7: duplicate of row 2
        ("11010119900307123X", "x", "厨师", "", float(CARD), "123", "2026-99-01"),  # 8: many
        (None, None, None, None, None, None, None),  # blank: skipped
        (n6, left.name, "电工", "建设银行", CARD, BRANCH, None),  # 10: re-join
    ]
    r = await _post(client, world, h, team_workbook(rows))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["imported"], body["failed"]) == (8, 3, 5), body["errors"]
    errors = {(e["row"], e["field"]): e["message"] for e in body["errors"]}
    assert "请先使用采集设备完成实名制采集" in errors[(4, "id_number")]
    assert errors[(5, "name")] == "姓名与实名制采集信息不一致"
    assert errors[(6, "id_number")] == "该人员已在本项目在职"
    assert errors[(7, "id_number")] == "与第 2 行身份证号重复"
    assert errors[(8, "work_type")] == "工种不在可选范围内，请从列表中选择"
    assert errors[(8, "bank_name")] == "请填写工资卡银行"
    assert errors[(8, "bank_card")].startswith("工资卡号请以文本格式填写")
    assert errors[(8, "bank_branch_code")] == "联行号应为12位数字"
    assert errors[(8, "entry_date")] == "进场日期格式错误，应为 YYYY-MM-DD"
    assert (8, "id_number") in errors
    assert all(e["column"] for e in body["errors"])
    TeamImportResult.model_validate_json(r.content, strict=True)  # the declared reply
    m1 = await ProjectMember.get(project=world.project, person=ok1)
    assert m1.entry_date == d and m1.team_id == world.team.id and m1.work_type == "钢筋工"
    assert m1.bank_branch_code == BRANCH
    m2 = await ProjectMember.get(project=world.project, person=ok2)
    assert m2.bank_branch_code == BRANCH and m2.entry_date == dt.date(2026, 1, 6)
    again = await ProjectMember.get(id=left_member.id)
    assert again.work_status == "active" and again.work_type == "电工"
    assert not await ProjectMember.filter(project=world.project, person=wrong_name).exists()


async def test_import_file_refusals(client, redis):
    world, h = await gc_world(redis)
    r = await _post(client, world, h, team_workbook([], header=("姓名", "身份证号")))
    assert r.status_code == 422 and r.json()["code"] == "invalid_template"
    assert "模板表头不正确" in r.json()["message"]
    r = await _post(client, world, h, team_workbook([]))
    assert r.status_code == 422 and r.json()["message"] == "导入文件中没有人员数据"
    r = await _post(client, world, h, PDF, name="x.pdf")
    assert r.status_code == 422 and r.json()["message"] == "请上传 .xlsx 格式的导入模板"
    r = await _post(client, world, h, b"PK\x03\x04garbage", name="x.xlsx")
    assert r.status_code == 422 and r.json()["message"] == "文件无法读取，请使用下载的导入模板填写"
    r = await client.post(f"{base(world)}/teams/{world.team.id}/import", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "file"
    off = await Team.create(project=world.project, unit=world.gc, name="退场", on_site=False)
    p, n, _ = await make_person()
    r = await _post(
        client,
        world,
        h,
        team_workbook([(n, p.name, "木工", "中国银行", CARD, BRANCH, None)]),
        team=off,
    )
    assert r.status_code == 409 and r.json()["message"] == "班组已退场，不能添加人员"
    # another project's team
    other = await make_project()
    r = await _post(client, world, h, team_workbook([]), team=other.team)
    assert r.status_code == 404
    sh = await headers_for(redis, world, "supervisor")
    r = await _post(
        client, world, sh, team_workbook([(n, p.name, "木工", "中国银行", CARD, BRANCH, None)])
    )
    assert r.status_code == 403
    assert not await ProjectMember.filter(person=p).exists()

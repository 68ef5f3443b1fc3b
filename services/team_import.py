"""Import a team's members from the .xlsx template (openpyxl).

Every row is checked on its own: its errors come back with the row number, the field and a
Chinese message; the valid rows are imported together. Each row still needs an enrolled person
(rule 6), a work type and a complete wage card (rule 5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from tortoise.transactions import in_transaction

from models import Person, ProjectMember, WorkStatus
from realname import error_codes as E
from realname.errors import AppError, Conflict, ValidationError
from services import dates, labour, localtime, pii
from services.files import OFFICE, check_upload
from services.identity import ProjectAccess

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id_number", "身份证号", 22),
    ("name", "姓名", 12),
    ("work_type", "工种", 12),
    ("bank_name", "工资卡银行", 20),
    ("bank_card", "工资卡号", 24),
    ("bank_branch_code", "联行号", 16),
    ("entry_date", "进场日期", 14),
)
HEADERS = tuple(label for _, label, _ in COLUMNS)
TEXT_COLUMNS = ("A", "E", "F")  # long digit strings: Excel must keep them as text
MAX_ROWS = 1000
TEMPLATE_NAME = "班组人员导入模板.xlsx"


def template_bytes() -> bytes:
    """The import template: Chinese headers, text-formatted number columns, a 工种 drop-down."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "班组人员"
    ws.append(list(HEADERS))
    for i, (_, _, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        ws.column_dimensions[cell.column_letter].width = width
    for col in TEXT_COLUMNS:
        for row in range(2, MAX_ROWS + 2):
            ws[f"{col}{row}"].number_format = "@"
    ws.freeze_panes = "A2"
    types = wb.create_sheet("工种列表")
    for wt in labour.WORK_TYPES:
        types.append([wt])
    dv = DataValidation(
        type="list",
        formula1=f"=工种列表!$A$1:$A${len(labour.WORK_TYPES)}",
        allow_blank=True,
        showErrorMessage=True,
        error="请从列表中选择工种",
    )
    ws.add_data_validation(dv)
    dv.add(f"C2:C{MAX_ROWS + 1}")
    notes = wb.create_sheet("填写说明")
    for line in (
        "1. 人员须先使用实名制采集设备完成采集，否则无法导入；",
        "2. 身份证号、姓名须与采集信息一致；工种须从列表中选择；",
        "3. 工资卡银行、工资卡号、联行号（12位）均为必填；",
        "4. 进场日期格式为 YYYY-MM-DD，留空则为导入当天；",
        f"5. 每次最多导入 {MAX_ROWS} 行，请勿修改表头。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 70
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class RowResult:
    """One data row: its number, parsed values and errors."""

    row: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, key: str, message: str) -> None:
        """Record an error of one field of this row."""
        label = dict((k, lbl) for k, lbl, _ in COLUMNS)[key]
        self.errors.append({"row": self.row, "field": key, "column": label, "message": message})


def _text(value: Any, key: str, result: RowResult, label: str) -> str:
    """A cell as text; long numbers typed as numbers lose digits in Excel, so they are refused."""
    if value is None:
        return ""
    if isinstance(value, float):
        if key in ("id_number", "bank_card") or not value.is_integer():
            result.fail(key, f"{label}请以文本格式填写（数字格式会丢失位数）")
            return ""
        value = int(value)
    return str(value).strip()


def _read_rows(data: bytes) -> list[tuple[int, tuple[Any, ...]]]:
    """The header-checked data rows of the first sheet, with their Excel row numbers."""
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure means "not our template"
        raise ValidationError(code=E.INVALID_TEMPLATE.code, field="file") from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        names = tuple(str(v).strip() if v is not None else "" for v in (header or ()))
        if names[: len(HEADERS)] != HEADERS:
            expected = "、".join(HEADERS)
            raise ValidationError(
                f"模板表头不正确，请下载最新的导入模板（表头：{expected}）",
                code=E.INVALID_TEMPLATE.code,
                field="file",
            )
        out = []
        for number, values in enumerate(rows, start=2):
            cells = tuple(values[: len(HEADERS)]) + (None,) * (len(HEADERS) - len(values))
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            out.append((number, cells))
            if len(out) > MAX_ROWS:
                raise ValidationError(
                    f"一次最多导入 {MAX_ROWS} 行，请分批导入",
                    code=E.TOO_MANY_ROWS.code,
                    field="file",
                )
        return out
    finally:
        wb.close()


def _check(result: RowResult, cells: tuple[Any, ...], today: dt.date) -> None:
    """Validate one row's cells into `result.values` (errors recorded per field)."""
    raw = {key: cells[i] for i, (key, _, _) in enumerate(COLUMNS)}
    labels = {k: lbl for k, lbl, _ in COLUMNS}
    text = {key: _text(raw[key], key, result, labels[key]) for key in raw if key != "entry_date"}
    if not any(e["field"] == "id_number" for e in result.errors):
        try:
            result.values["id_number"] = pii.validate_id_number(text["id_number"])
        except AppError as exc:
            result.fail("id_number", exc.message)
    if not text["name"]:
        result.fail("name", "请填写姓名")
    result.values["name"] = text["name"]
    checks = (
        ("work_type", labour.validate_work_type),
        ("bank_name", labour.validate_bank_name),
        ("bank_card", pii.validate_bank_card),
        ("bank_branch_code", labour.validate_branch_code),
    )
    for key, check in checks:
        if any(e["field"] == key for e in result.errors):
            continue
        try:
            result.values[key] = check(text[key], key)
        except AppError as exc:
            result.fail(key, exc.message)
    try:
        entry = (
            dates.parse_date(raw["entry_date"], "entry_date", "进场日期", required=False) or today
        )
        if entry > today:
            result.fail("entry_date", "进场日期不能晚于今天")
        result.values["entry_date"] = entry
    except AppError as exc:
        result.fail("entry_date", exc.message)


async def import_members(
    access: ProjectAccess, team_id: int, data: bytes, filename: str, max_bytes: int
) -> dict[str, Any]:
    """Import the filled template into a team: row-level errors, valid rows imported."""
    team = await labour.get_team(access, team_id)
    access.check_manages(team.unit_id)
    if not team.on_site:
        raise Conflict(code=E.TEAM_OFF_SITE.code)
    if not filename.lower().endswith(".xlsx"):
        raise ValidationError(code=E.INVALID_FILE_TYPE.code, field="file")
    check_upload(data, filename, frozenset({OFFICE}), max_bytes, "file")
    rows = await asyncio.to_thread(_read_rows, data)
    if not rows:
        raise ValidationError(code=E.EMPTY_TEMPLATE.code, field="file")
    today = localtime.project_today(access.project)
    results = []
    seen: dict[str, int] = {}
    for number, cells in rows:
        result = RowResult(number)
        _check(result, cells, today)
        id_number = result.values.get("id_number")
        if id_number and id_number in seen:
            result.fail("id_number", f"与第 {seen[id_number]} 行身份证号重复")
        elif id_number:
            seen[id_number] = number
        results.append(result)
    await _match_persons(access.project.id, results)
    good = [r for r in results if not r.errors]
    imported: list[int] = []
    async with in_transaction():
        for r in good:
            card = labour.WageCard(
                r.values["work_type"],
                r.values["bank_name"],
                r.values["bank_card"],
                r.values["bank_branch_code"],
            )
            member = await labour.save_labour_member(
                access.project.id,
                team,
                r.values["person"],
                card,
                r.values["entry_date"],
                r.values["existing"],
            )
            imported.append(member.id)
    errors = [e for r in results for e in r.errors]
    return {
        "total": len(results),
        "imported": len(imported),
        "failed": len(results) - len(good),
        "member_ids": imported,
        "errors": errors,
    }


async def _match_persons(project_id: int, results: list[RowResult]) -> None:
    """Attach each row's enrolled person (rule 6) and refuse people already active here."""
    c = pii.cipher()
    wanted = [
        (c.blind_index("id", r.values["id_number"]), r)
        for r in results
        if r.values.get("id_number") and not any(e["field"] == "id_number" for e in r.errors)
    ]
    persons: dict[str | None, Person] = {
        p.id_number_bidx: p
        for p in await Person.filter(id_number_bidx__in=[bidx for bidx, _ in wanted])
    }
    members = {
        m.person_id: m
        for m in await ProjectMember.filter(
            project_id=project_id, person_id__in=[p.id for p in persons.values()]
        )
    }
    for bidx, r in wanted:
        person = persons.get(bidx)
        if person is None or person.enrolled_at is None:
            r.fail("id_number", f"该人员尚未完成实名制采集，{labour.ENROL_FIRST}")
            continue
        if r.values.get("name") and r.values["name"] != person.name:
            r.fail("name", "姓名与实名制采集信息不一致")
        existing = members.get(person.id)
        if existing is not None and existing.work_status == WorkStatus.ACTIVE:
            r.fail("id_number", "该人员已在本项目在职")
        r.values["person"], r.values["existing"] = person, existing

"""Project materials (项目材料管理): monthly material reports with their contracts and
receipt/payment vouchers, the five wage-account materials, voucher lists by month."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from models import ParticipatingUnit, Project
from models.files import StoredFile
from models.materials import (
    VOUCHER_KIND_LABELS,
    WAGE_MATERIAL_LABELS,
    MaterialVoucher,
    MonthlyReport,
    VoucherKind,
    WageAccountMaterial,
    WageMaterialKind,
)
from realname import error_codes as E
from realname.errors import Conflict, NotFound, ValidationError
from realname.storage import FileStore
from services import files as file_service
from services import localtime
from services.dates import parse_date
from services.identity import MANAGE, ProjectAccess
from services.listing import numbered, paged
from services.units import (
    Upload,
    parse_amount,
    parse_percent,
    registered_unit,
    text,
)

ATTACHMENT_PURPOSE = "material"
MAX_ITEMS = 100


def _url_prefix(project: Project) -> str:
    return f"/admin/v1/projects/{project.code}"


# --- attachments ---------------------------------------------------------------------------------


async def upload_attachment(
    access: ProjectAccess, upload: Upload | None, store: FileStore
) -> StoredFile:
    """Store a material file (PDF, image, Office) for later use by a report or material row."""
    access.require(MANAGE)
    if upload is None:
        raise ValidationError("请选择要上传的文件", code=E.REQUIRED.code, field="file")
    return await file_service.save_project_upload(
        access, store, upload.data, upload.name, purpose=ATTACHMENT_PURPOSE
    )


async def _attachment(
    project: Project, file_id: Any, field: str, label: str, required: bool
) -> StoredFile | None:
    """A material file uploaded to this project, chosen by id."""
    if file_id in (None, ""):
        if required:
            raise ValidationError(f"请上传{label}", code=E.REQUIRED.code, field=field)
        return None
    try:
        fid = int(file_id)
    except (TypeError, ValueError):
        fid = 0
    found = await StoredFile.get_or_none(id=fid, project_id=project.id, purpose=ATTACHMENT_PURPOSE)
    if found is None:
        raise ValidationError(code=E.UNKNOWN_FILE.code, field=field)
    return found


# --- monthly reports (材料月报) ------------------------------------------------------------------


def _year_month(year: Any, month: Any) -> tuple[int, int]:
    try:
        y, m = int(year), int(month)
    except (TypeError, ValueError) as exc:
        raise ValidationError("年月格式错误", code=E.INVALID_MONTH.code, field="month") from exc
    today = localtime.today()  # the reply's zone: the project's
    if not 2000 <= y <= today.year + 1:
        raise ValidationError("年份超出范围", code=E.INVALID_MONTH.code, field="year")
    if not 1 <= m <= 12:
        raise ValidationError("月份应在1到12之间", code=E.INVALID_MONTH.code, field="month")
    return y, m


def parse_month(value: Any, field: str = "month") -> tuple[int, int]:
    """``YYYY-MM`` → (year, month), or a ValidationError naming `field`."""
    raw = str(value or "").strip()
    parts = raw.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValidationError(code=E.INVALID_MONTH.code, field=field)
    return _year_month(parts[0], parts[1])


@dataclass(frozen=True)
class ItemLabels:
    """The form labels of one voucher kind."""

    unit: str
    number: str
    counterparty: str
    amount: str
    date: str
    file: str
    counterparty_required: bool = False
    date_in_month: bool = True


ITEM_LABELS = {
    VoucherKind.CONTRACT: ItemLabels(
        "签约单位",
        "合同编号",
        "合同相对方",
        "合同金额(元)",
        "签订日期",
        "合同文件",
        date_in_month=False,
    ),
    VoucherKind.RECEIPT: ItemLabels(
        "收款单位", "凭证号", "付款单位", "收款金额(元)", "收款日期", "收款凭证文件"
    ),
    VoucherKind.PAYMENT: ItemLabels(
        "付款单位",
        "凭证号",
        "收款方（材料供应商）",
        "付款金额(元)",
        "付款日期",
        "付款凭证文件",
        counterparty_required=True,
    ),
}


async def _parse_item(
    project: Project, raw: Any, where: str, year: int, month: int
) -> dict[str, Any]:
    """Validate one contract/receipt/payment line of a monthly report."""
    if not isinstance(raw, dict):
        raise ValidationError("每一项应为对象", code=E.INVALID_ROW.code, field=where.rstrip("."))
    kind = raw.get("kind")
    if kind not in {k.value for k in VoucherKind}:
        raise ValidationError(
            "材料类型应为 contract / receipt / payment",
            code=E.INVALID_CHOICE.code,
            field=f"{where}kind",
        )
    labels = ITEM_LABELS[VoucherKind(kind)]
    unit = await registered_unit(project, raw.get("unit_id"), f"{where}unit_id", labels.unit)
    prefixed = {f"{where}{k}": v for k, v in raw.items()}
    number = text(prefixed, f"{where}number", labels.number, max_len=64)
    counterparty = text(
        prefixed, f"{where}counterparty", labels.counterparty, required=labels.counterparty_required
    )
    amount = parse_amount(raw.get("amount"), f"{where}amount", labels.amount, required=True)
    occurred = parse_date(raw.get("date"), f"{where}date", labels.date, prompt="请选择")
    assert occurred is not None
    if labels.date_in_month and (occurred.year, occurred.month) != (year, month):
        raise ValidationError(
            f"{labels.date}应在{year}年{month:02d}月内",
            code=E.DATE_OUTSIDE_MONTH.code,
            field=f"{where}date",
        )
    if occurred > localtime.today():
        raise ValidationError(
            f"{labels.date}不能晚于今天", code=E.INVALID_DATE.code, field=f"{where}date"
        )
    file = await _attachment(project, raw.get("file_id"), f"{where}file_id", labels.file, True)
    return {
        "kind": kind,
        "unit": unit,
        "number": number,
        "counterparty": counterparty,
        "amount": amount,
        "occurred_on": occurred,
        "file": file,
    }


async def _parse_items(
    project: Project, items: Any, year: int, month: int, required: bool
) -> list[dict[str, Any]]:
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ValidationError("材料明细应为列表", code=E.INVALID_FIELD.code, field="items")
    if required and not items:
        raise ValidationError("请至少添加一项合同或收付款凭证", code=E.REQUIRED.code, field="items")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"一次最多登记{MAX_ITEMS}项", code=E.TOO_MANY.code, field="items")
    return [
        await _parse_item(project, raw, f"items[{i}].", year, month) for i, raw in enumerate(items)
    ]


def _registered(access: ProjectAccess) -> dict[str, Any]:
    """The columns every material row is created with: its project and who registered it."""
    p = access.principal
    return {
        "project_id": access.project.id,
        "registered_by": p.display_name,
        "registered_actor": p.actor,
    }


async def _create_items(
    access: ProjectAccess, report: MonthlyReport, items: list[dict[str, Any]]
) -> None:
    for item in items:
        await MaterialVoucher.create(
            **_registered(access),
            report=report,
            kind=item["kind"],
            unit=item["unit"],
            number=item["number"],
            counterparty=item["counterparty"],
            amount=item["amount"],
            occurred_on=item["occurred_on"],
            file=item["file"],
        )


async def month_overview(project: Project, year: int) -> list[dict[str, Any]]:
    """Months 1–12 of `year`: registered or not (材料月报上传), with item counts."""
    year, _ = _year_month(year, 1)
    reports = {r.month: r for r in await MonthlyReport.filter(project_id=project.id, year=year)}
    counts: dict[int, int] = {}
    if reports:
        rows: list[Any] = await MaterialVoucher.filter(
            report_id__in=[r.id for r in reports.values()], deleted_at__isnull=True
        ).values_list("report_id", flat=True)
        by_id = {r.id: r.month for r in reports.values()}
        for rid in rows:
            counts[by_id[rid]] = counts.get(by_id[rid], 0) + 1
    out = []
    for m in range(1, 13):
        r = reports.get(m)
        out.append(
            {
                "year": year,
                "month": m,
                "registered": r is not None,
                "state_label": "已登记" if r else "未登记",
                "item_count": counts.get(m, 0),
                "registered_by": r.registered_by if r else "",
                "registered_at": r.registered_at if r else None,
            }
        )
    return out


async def register_month(
    access: ProjectAccess, year: Any, month: Any, data: dict[str, Any]
) -> MonthlyReport:
    """登记 a month's material report with its contracts and vouchers."""
    access.require(MANAGE)
    y, m = _year_month(year, month)
    today = localtime.project_today(access.project)
    if (y, m) > (today.year, today.month):
        raise ValidationError(code=E.FUTURE_MONTH.code, field="month")
    if await MonthlyReport.exists(project_id=access.project.id, year=y, month=m):
        raise Conflict(
            f"{y}年{m:02d}月的材料月报已登记，可在详情中补充材料", code=E.REPORT_EXISTS.code
        )
    note = text(data, "note", "备注", max_len=255)
    items = await _parse_items(access.project, data.get("items"), y, m, required=True)
    async with in_transaction():
        report = await MonthlyReport.create(**_registered(access), year=y, month=m, note=note)
        await _create_items(access, report, items)
    return report


async def _report(project: Project, year: Any, month: Any) -> MonthlyReport:
    y, m = _year_month(year, month)
    report = await MonthlyReport.get_or_none(project_id=project.id, year=y, month=m)
    if report is None:
        raise NotFound(f"{y}年{m:02d}月的材料月报尚未登记", code=E.REPORT_NOT_FOUND.code)
    return report


async def add_items(access: ProjectAccess, year: Any, month: Any, data: dict[str, Any]) -> int:
    """补充 contracts/vouchers to a registered month; return how many were added."""
    access.require(MANAGE)
    report = await _report(access.project, year, month)
    items = await _parse_items(
        access.project, data.get("items"), report.year, report.month, required=True
    )
    async with in_transaction():
        await _create_items(access, report, items)
    return len(items)


def voucher_public(v: MaterialVoucher, prefix: str) -> dict[str, Any]:
    """One contract/voucher line."""
    unit: ParticipatingUnit = v.unit
    return {
        "id": v.id,
        "kind": str(v.kind),
        "kind_label": VOUCHER_KIND_LABELS[VoucherKind(v.kind)],
        "month": f"{v.report.year}-{v.report.month:02d}",
        "unit_id": unit.id,
        "unit_name": unit.enterprise.name,
        "number": v.number,
        "counterparty": v.counterparty,
        "amount": str(v.amount),
        "date": v.occurred_on,
        "file": file_service.file_public(v.file, prefix),
        "registered_by": v.registered_by,
        "registered_at": v.registered_at,
    }


async def report_detail(access: ProjectAccess, year: Any, month: Any) -> dict[str, Any]:
    """A registered month with its lines grouped by kind."""
    report = await _report(access.project, year, month)
    vouchers = (
        await MaterialVoucher.filter(report_id=report.id, deleted_at__isnull=True)
        .order_by("id")
        .prefetch_related("unit__enterprise", "file", "report")
    )
    prefix = _url_prefix(access.project)
    grouped: dict[str, list[dict[str, Any]]] = {k.value: [] for k in VoucherKind}
    for v in vouchers:
        grouped[str(v.kind)].append(voucher_public(v, prefix))
    return {
        "id": report.id,
        "year": report.year,
        "month": report.month,
        "note": report.note,
        "registered_by": report.registered_by,
        "registered_at": report.registered_at,
        "contracts": grouped["contract"],
        "receipts": grouped["receipt"],
        "payments": grouped["payment"],
    }


async def delete_voucher(access: ProjectAccess, voucher_id: int) -> None:
    """Remove a line from view (kept for the record)."""
    access.require(MANAGE)
    v = await MaterialVoucher.get_or_none(
        id=voucher_id, project_id=access.project.id, deleted_at__isnull=True
    )
    if v is None:
        raise NotFound("材料记录不存在", code=E.VOUCHER_NOT_FOUND.code)
    v.deleted_at = localtime.now()
    await v.save(update_fields=["deleted_at"])


async def list_vouchers(
    access: ProjectAccess, kind: str, month: str | None, page_no: int, size: int
) -> tuple[list[dict[str, Any]], int, str]:
    """工程款收款凭证 / 材料款付款凭证 pages: lines of one kind, optionally of one month,
    with the total amount."""
    if kind not in {k.value for k in VoucherKind}:
        raise ValidationError(
            "凭证类型应为 receipt / payment / contract", code=E.INVALID_CHOICE.code, field="kind"
        )
    query = MaterialVoucher.filter(project_id=access.project.id, kind=kind, deleted_at__isnull=True)
    if month:
        y, m = parse_month(month)
        query = query.filter(report__year=y, report__month=m)
    total = await query.count()
    amounts = await query.values_list("amount", flat=True)
    rows = await paged(query, page_no, size, "-occurred_on", "-id").prefetch_related(
        "unit__enterprise", "file", "report"
    )
    prefix = _url_prefix(access.project)
    out = [{"seq": seq, **voucher_public(v, prefix)} for seq, v in numbered(rows, page_no, size)]
    return out, total, str(sum((Decimal(str(a)) for a in amounts), Decimal("0.00")))


# --- wage-account materials (工资专户材料) -------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a wage-account material form."""

    key: str
    label: str
    type: str = "text"  # text | unit | amount | percent | date | choice | branch_code
    required: bool = False
    choices: tuple[str, ...] = field(default=())

    def public(self) -> dict[str, Any]:
        """The field as the form renders it."""
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "type": self.type,
            "required": self.required,
        }
        if self.choices:
            out["choices"] = list(self.choices)
        return out


K = WageMaterialKind
WAGE_FIELDS: dict[WageMaterialKind, tuple[Field, ...]] = {
    K.ESCROW_AGREEMENT: (
        Field("party_a_unit_id", "甲方", "unit", True),
        Field("party_b_unit_id", "乙方", "unit", True),
        Field("bank_name", "丙方（开户银行）", "text", True),
        Field("agreement_no", "资金托管协议号或合同编号"),
        Field("advance_min_ratio", "工资预付款占合同价最低比例", "percent"),
        Field("monthly_min_ratio", "工资月执行金额占进度款最低比例", "percent"),
    ),
    K.ACCOUNT_OPENING: (
        Field("agreement_no", "关联资金托管协议号或合同编号"),
        Field("unit_id", "所属单位", "unit", True),
        Field("bank_name", "银行名称", "text", True),
        Field("bank_branch_code", "联行号", "branch_code", True),
        Field("account_name", "账户名称", "text", True),
    ),
    K.WAGE_DEPOSIT: (
        Field("unit_id", "施工单位", "unit", True),
        Field(
            "deposit_method",
            "保证金缴纳方式",
            "choice",
            True,
            ("现金存储", "银行保函", "工程担保公司保函", "工程保证保险"),
        ),
        Field("institution", "担保/保险机构"),
        Field("amount", "存款或担保/保单金额(元)", "amount", True),
        Field("start_date", "保函/保险开始日期", "date"),
        Field("end_date", "保函/担保结束日期", "date"),
    ),
    K.PAYMENT_GUARANTEE: (
        Field("unit_id", "建设单位", "unit", True),
        Field(
            "guarantee_method",
            "担保方式",
            "choice",
            True,
            ("银行保函", "工程担保公司保函", "工程保证保险"),
        ),
        Field("institution", "担保/保险机构", "text", True),
        Field("guarantee_no", "保函/保单编号"),
        Field("amount", "担保金额(元)", "amount", True),
        Field("start_date", "担保开始日期", "date", True),
        Field("end_date", "担保结束日期", "date", True),
    ),
    K.GC_PAYROLL_AGREEMENT: (
        Field("party_a_unit_id", "甲方（施工总承包单位）", "unit", True),
        Field("party_b_unit_id", "乙方（分包单位）", "unit", True),
        Field("agreement_no", "协议编号"),
        Field("bank_name", "代发银行"),
        Field("signed_on", "签订日期", "date", True),
    ),
}
WAGE_DESCRIPTIONS = {
    K.ESCROW_AGREEMENT: "建设单位、施工总承包单位、开户银行三方签署资金托管协议",
    K.ACCOUNT_OPENING: "施工总承包单位在银行申请农民工工资专户开户单",
    K.WAGE_DEPOSIT: "施工总承包单位缴纳工资保证金或其他机构出具保函证明",
    K.PAYMENT_GUARANTEE: "建设单位提供工程款支付担保",
    K.GC_PAYROLL_AGREEMENT: "施工总承包单位与分包单位签订农民工工资总包代发协议",
}
WAGE_FILE_LABELS = {
    K.ESCROW_AGREEMENT: "协议附件",
    K.ACCOUNT_OPENING: "开户单附件",
    K.WAGE_DEPOSIT: "存保凭证或保函/保单附件",
    K.PAYMENT_GUARANTEE: "担保函附件",
    K.GC_PAYROLL_AGREEMENT: "协议附件",
}
# The four cards of the workbench (资料上传情况) and the material each one reads.
WORKBENCH_CARDS = (
    ("资金托管三方协议", K.ESCROW_AGREEMENT, "农民工工资专用账户资金托管三方协议"),
    ("专用账户开户函", K.ACCOUNT_OPENING, "农民工工资专用账户开户函"),
    ("工程款支付担保函", K.PAYMENT_GUARANTEE, "工程款支付担保函"),
    ("工资保证金缴纳凭证", K.WAGE_DEPOSIT, "农民工工资保证金缴纳凭证"),
)


def wage_kind(kind: str) -> WageMaterialKind:
    """The wage-material kind named in a URL, or NotFound."""
    try:
        return WageMaterialKind(kind)
    except ValueError as exc:
        raise NotFound(code=E.MATERIAL_KIND_NOT_FOUND.code) from exc


async def _parse_wage_fields(
    project: Project, kind: WageMaterialKind, data: dict[str, Any]
) -> dict[str, Any]:
    """Validate a wage-material form against its kind's fields and cross-field rules."""
    out: dict[str, Any] = {}
    for f in WAGE_FIELDS[kind]:
        raw = data.get(f.key)
        if f.type == "unit":
            if raw in (None, "") and not f.required:
                continue
            unit = await registered_unit(project, raw, f.key, f.label)
            out[f.key] = unit.id
            out[f.key.removesuffix("_id") + "_name"] = unit.enterprise.name
        elif f.type == "amount":
            amount = parse_amount(raw, f.key, f.label, required=f.required)
            out[f.key] = str(amount) if amount is not None else None
        elif f.type == "percent":
            pct = parse_percent(raw, f.key, f.label)
            out[f.key] = str(pct) if pct is not None else None
        elif f.type == "date":
            day = parse_date(raw, f.key, f.label, required=f.required, prompt="请选择")
            out[f.key] = day.isoformat() if day else None
        else:
            value = text(data, f.key, f.label, required=f.required)
            if f.type == "choice" and value and value not in f.choices:
                raise ValidationError(
                    f"{f.label}应为：{'、'.join(f.choices)}",
                    code=E.INVALID_CHOICE.code,
                    field=f.key,
                )
            if f.type == "branch_code" and value and (not value.isdigit() or len(value) != 12):
                raise ValidationError(code=E.INVALID_BRANCH_CODE.code, field=f.key)
            out[f.key] = value
    # Cross-field rules.
    if out.get("party_a_unit_id") and out.get("party_a_unit_id") == out.get("party_b_unit_id"):
        raise ValidationError(code=E.SAME_PARTY.code, field="party_b_unit_id")
    start, end = out.get("start_date"), out.get("end_date")
    if start and end and end < start:
        raise ValidationError(
            "结束日期不能早于开始日期", code=E.INVALID_DATE.code, field="end_date"
        )
    if (
        kind == K.WAGE_DEPOSIT
        and out.get("deposit_method") != "现金存储"
        and not out.get("institution")
    ):
        raise ValidationError(
            "保函或保险方式缴纳时请填写担保/保险机构", code=E.REQUIRED.code, field="institution"
        )
    if kind == K.ACCOUNT_OPENING and out.get("agreement_no"):
        escrows: list[Any] = await WageAccountMaterial.filter(
            project_id=project.id, kind=K.ESCROW_AGREEMENT, deleted_at__isnull=True
        ).values_list("data", flat=True)
        known = {d.get("agreement_no") for d in escrows if isinstance(d, dict)}
        if out["agreement_no"] not in known:
            raise ValidationError(
                code=E.UNKNOWN_AGREEMENT.code,
                field="agreement_no",
            )
    return out


async def register_wage_material(
    access: ProjectAccess, kind: str, data: dict[str, Any]
) -> WageAccountMaterial:
    """登记 one wage-account material of `kind` (fields per WAGE_FIELDS, ``file_id``)."""
    access.require(MANAGE)
    k = wage_kind(kind)
    values = await _parse_wage_fields(access.project, k, data)
    file = await _attachment(
        access.project, data.get("file_id"), "file_id", WAGE_FILE_LABELS[k], False
    )
    return await WageAccountMaterial.create(**_registered(access), kind=k, data=values, file=file)


async def delete_wage_material(access: ProjectAccess, kind: str, material_id: int) -> None:
    """Remove a wage-account material from view (kept for the record)."""
    access.require(MANAGE)
    row = await WageAccountMaterial.get_or_none(
        id=material_id, project_id=access.project.id, kind=wage_kind(kind), deleted_at__isnull=True
    )
    if row is None:
        raise NotFound(code=E.MATERIAL_NOT_FOUND.code)
    row.deleted_at = localtime.now()
    await row.save(update_fields=["deleted_at"])


def wage_material_public(row: WageAccountMaterial, seq: int, prefix: str) -> dict[str, Any]:
    """One row of a wage-material table, with 登记人 and 登记时间."""
    k = WageMaterialKind(row.kind)
    return {
        "seq": seq,
        "id": row.id,
        "kind": k.value,
        "kind_label": WAGE_MATERIAL_LABELS[k],
        **(row.data or {}),
        "file": file_service.file_public(row.file, prefix),
        "registered_by": row.registered_by,
        "registered_at": row.registered_at,
    }


async def wage_material_counts(project_id: int) -> dict[str, int]:
    """How many rows of each kind are registered (the 0 资金托管协议 ... counters)."""
    kinds = await WageAccountMaterial.filter(
        project_id=project_id, deleted_at__isnull=True
    ).values_list("kind", flat=True)
    counts = {k.value: 0 for k in WageMaterialKind}
    for k in kinds:
        counts[str(k)] += 1
    return counts


async def wage_materials(access: ProjectAccess, kind: str | None = None) -> dict[str, Any]:
    """The wage-material page: per kind its label, description, form fields, count and rows."""
    rows = (
        await WageAccountMaterial.filter(project_id=access.project.id, deleted_at__isnull=True)
        .order_by("id")
        .prefetch_related("file")
    )
    wanted = [wage_kind(kind)] if kind else list(WageMaterialKind)
    prefix = _url_prefix(access.project)
    sections = []
    for k in wanted:
        mine = [r for r in rows if r.kind == k]
        sections.append(
            {
                "kind": k.value,
                "label": WAGE_MATERIAL_LABELS[k],
                "description": WAGE_DESCRIPTIONS[k],
                "file_label": WAGE_FILE_LABELS[k],
                "fields": [f.public() for f in WAGE_FIELDS[k]],
                "count": len(mine),
                "data": [wage_material_public(r, i, prefix) for i, r in enumerate(mine, start=1)],
            }
        )
    return {"counts": await wage_material_counts(access.project.id), "kinds": sections}


async def workbench_materials(project_id: int) -> list[dict[str, Any]]:
    """The workbench cards: 已上传 when a row of the kind with its attachment is registered."""
    uploaded = set(
        await WageAccountMaterial.filter(
            project_id=project_id, deleted_at__isnull=True, file_id__isnull=False
        ).values_list("kind", flat=True)
    )
    return [
        {
            "key": k.value,
            "label": label,
            "title": title,
            "uploaded": k.value in {str(u) for u in uploaded},
            "state_label": "已上传" if k.value in {str(u) for u in uploaded} else "未上传",
        }
        for label, k, title in WORKBENCH_CARDS
    ]


async def registered_months(project_id: int, year: int) -> set[int]:
    """The months of `year` with a registered material report."""
    months: list[Any] = await MonthlyReport.filter(project_id=project_id, year=year).values_list(
        "month", flat=True
    )
    return set(months)

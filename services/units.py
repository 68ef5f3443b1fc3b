"""Participating units (参建单位): list with derived participant counts, subcontractor
registration, editing, entry/exit; plus the small value parsers the project-info forms share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import (
    AccountKind,
    Enterprise,
    ParticipatingUnit,
    Project,
    ProjectMember,
    Region,
    UnitRole,
    WorkStatus,
)
from models.files import StoredFile
from models.org import UNIT_ROLE_LABELS
from realname import error_codes as E
from realname.errors import Conflict, Forbidden, NotFound, ValidationError
from realname.storage import FileStore
from services import files as file_service
from services import localtime, pii
from services.dates import parse_date
from services.identity import MANAGE, VIEW_PII, ProjectAccess
from services.listing import filter_choice, numbered

SUBCONTRACTOR_ROLES = (UnitRole.SPECIALTY_SUB, UnitRole.LABOUR_SUB)
# Enterprises in these roles run the whole project's unit list; subcontractors only their own row.
UNIT_ADMIN_ROLES = {UnitRole.BUILDER.value, UnitRole.GENERAL_CONTRACTOR.value}
ROLE_ORDER = {r: i for i, r in enumerate(UNIT_ROLE_LABELS)}
NOT_REGISTERED = "分包单位需要先在参建单位页面登记"


@dataclass(frozen=True)
class Upload:
    """An uploaded file as received: its bytes and the uploader's file name."""

    data: bytes
    name: str


# --- value parsers (shared by the project-info services) -----------------------------------------


def text(
    data: dict[str, Any], key: str, label: str, *, required: bool = False, max_len: int = 128
) -> str:
    """A trimmed string field; raise naming `key` when required and empty or too long."""
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise ValidationError(f"请填写{label}", code=E.REQUIRED.code, field=key)
    if len(value) > max_len:
        raise ValidationError(f"{label}不能超过{max_len}个字符", code=E.TOO_LONG.code, field=key)
    return value


def parse_amount(
    value: Any, field: str, label: str, *, required: bool = False, positive: bool = True
) -> Decimal | None:
    """A money amount in yuan (two decimals at most, > 0); raise naming `field`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"请填写{label}", code=E.REQUIRED.code, field=field)
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValidationError(f"{label}应为数字", code=E.INVALID_NUMBER.code, field=field) from exc
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(f"{label}最多保留两位小数", code=E.INVALID_NUMBER.code, field=field)
    if amount < 0 or (positive and amount == 0):
        raise ValidationError(f"{label}应大于0", code=E.INVALID_NUMBER.code, field=field)
    if amount >= Decimal("1e14"):
        raise ValidationError(f"{label}超出范围", code=E.INVALID_NUMBER.code, field=field)
    return amount


def parse_percent(value: Any, field: str, label: str) -> Decimal | None:
    """A percentage between 0 and 100 (optional); raise naming `field`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        pct = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation as exc:
        raise ValidationError(f"{label}应为数字", code=E.INVALID_NUMBER.code, field=field) from exc
    if not pct.is_finite() or not Decimal(0) <= pct <= Decimal(100):
        raise ValidationError(f"{label}应在0到100之间", code=E.OUT_OF_RANGE.code, field=field)
    return pct


def parse_bool(value: Any, field: str, label: str) -> bool | None:
    """A boolean from JSON or a form field ("true"/"false"/"1"/"0"/在场/退场)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    raw = str(value).strip().lower()
    if raw in ("true", "1", "在场", "yes"):
        return True
    if raw in ("false", "0", "退场", "no"):
        return False
    raise ValidationError(f"{label}取值无效", code=E.INVALID_CHOICE.code, field=field)


# --- authorisation within the project ------------------------------------------------------------


def can_admin_units(access: ProjectAccess) -> bool:
    """Builder, GC, post personnel with MANAGE and operators run the unit list."""
    if not access.can(MANAGE):
        return False
    if access.principal.kind == AccountKind.ENTERPRISE:
        return bool(access.unit_roles & UNIT_ADMIN_ROLES)
    return True


def require_unit_admin(access: ProjectAccess) -> None:
    """Refuse callers who may not register or exit units."""
    access.require(MANAGE)
    if not can_admin_units(access):
        raise Forbidden(code=E.UNIT_ADMIN_ONLY.code)


# --- reading -------------------------------------------------------------------------------------


async def participant_counts(project_id: int) -> dict[int, int]:
    """项目参与人数: active members per participating unit."""
    rows = (
        await ProjectMember.filter(project_id=project_id, work_status=WorkStatus.ACTIVE)
        .annotate(n=Count("id"))
        .group_by("unit_id")
        .values("unit_id", "n")
    )
    return {r["unit_id"]: r["n"] for r in rows}


async def _files_by_key(keys: list[str]) -> dict[str, StoredFile]:
    if not keys:
        return {}
    return {f.key: f for f in await StoredFile.filter(key__in=keys)}


def unit_public(
    unit: ParticipatingUnit,
    count: int,
    contract: StoredFile | None,
    show_pii: bool,
    url_prefix: str,
) -> dict[str, Any]:
    """One row of the 参建单位 list (the manual's columns)."""
    ent: Enterprise = unit.enterprise
    phone = pii.cipher().decrypt(unit.site_lead_phone_enc) if show_pii else None
    return {
        "id": unit.id,
        "enterprise_name": ent.name,  # 企业名称
        "credit_code": ent.credit_code,  # 统一社会信用代码
        "role": str(unit.role),
        "role_label": UNIT_ROLE_LABELS[UnitRole(unit.role)],  # 责任主体
        "site_lead": unit.site_lead,  # 现场负责人
        "site_lead_phone": phone or unit.site_lead_phone_masked,  # 现场负责人电话
        "participant_count": count,  # 项目参与人数
        "on_site": unit.on_site,
        "on_site_label": "在场" if unit.on_site else "退场",  # 进出场状态
        "entry_date": unit.entry_date,
        "exit_date": unit.exit_date,
        "specialty": unit.specialty,
        "region_code": ent.region_id,
        "registered_on": ent.registered_on,
        "contract": file_service.file_public(contract, url_prefix),  # 承发包合同
        "contract_registered_at": unit.contract_registered_at,  # 合同登记时间
        "synced": unit.synced,
    }


async def list_units(
    access: ProjectAccess,
    *,
    role: str | None = None,
    q: str | None = None,
    page_no: int = 1,
    size: int = 10,
) -> tuple[list[dict[str, Any]], int]:
    """The project's participating units, filtered by role and name/credit code/site lead."""
    query = ParticipatingUnit.filter(project_id=access.project.id)
    query = filter_choice(query, "role", role, UnitRole, "责任主体")
    if q and q.strip():
        from tortoise.expressions import Q

        term = q.strip()
        query = query.filter(
            Q(enterprise__name__icontains=term)
            | Q(enterprise__credit_code__icontains=term)
            | Q(site_lead__icontains=term)
        )
    units = await query.prefetch_related("enterprise")
    units.sort(key=lambda u: (ROLE_ORDER.get(UnitRole(u.role), 99), u.id))
    total = len(units)
    units = units[(page_no - 1) * size : page_no * size]
    counts = await participant_counts(access.project.id)
    files = await _files_by_key([u.contract_file for u in units if u.contract_file])
    prefix = f"/admin/v1/projects/{access.project.code}"
    show = access.can(VIEW_PII)
    rows = []
    for seq, u in numbered(units, page_no, size):
        row = unit_public(u, counts.get(u.id, 0), files.get(u.contract_file or ""), show, prefix)
        rows.append({"seq": seq, **row})
    return rows, total


async def unit_detail(access: ProjectAccess, unit_id: int) -> dict[str, Any]:
    """One participating unit of the project."""
    unit = await _unit_of(access.project, unit_id)
    counts = await participant_counts(access.project.id)
    files = await _files_by_key([unit.contract_file] if unit.contract_file else [])
    return unit_public(
        unit,
        counts.get(unit.id, 0),
        files.get(unit.contract_file or ""),
        access.can(VIEW_PII),
        f"/admin/v1/projects/{access.project.code}",
    )


async def _unit_of(project: Project, unit_id: Any) -> ParticipatingUnit:
    try:
        uid = int(unit_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(code=E.UNIT_NOT_FOUND.code) from exc
    unit = await ParticipatingUnit.get_or_none(id=uid, project_id=project.id).prefetch_related(
        "enterprise"
    )
    if unit is None:
        raise NotFound(code=E.UNIT_NOT_FOUND.code)
    return unit


async def registered_unit(
    project: Project, unit_id: Any, field: str = "unit_id", label: str = "单位"
) -> ParticipatingUnit:
    """A participating unit of `project` chosen in a form; anything else is refused with the
    manual's hint that subcontractors must be registered first."""
    if unit_id in (None, ""):
        raise ValidationError(f"请选择{label}", code=E.REQUIRED.code, field=field)
    try:
        uid = int(unit_id)
    except (TypeError, ValueError):
        uid = 0
    unit = await ParticipatingUnit.get_or_none(id=uid, project_id=project.id).prefetch_related(
        "enterprise"
    )
    if unit is None:
        raise ValidationError(
            f"所选{label}不是本项目已登记的参建单位，{NOT_REGISTERED}",
            code=E.UNIT_NOT_REGISTERED.code,
            field=field,
        )
    return unit


async def selectable_units(project: Project) -> list[dict[str, Any]]:
    """The registered units a form may choose from (id, name, credit code, role)."""
    units = await ParticipatingUnit.filter(project_id=project.id).prefetch_related("enterprise")
    units.sort(key=lambda u: (ROLE_ORDER.get(UnitRole(u.role), 99), u.id))
    return [
        {
            "id": u.id,
            "name": u.enterprise.name,
            "credit_code": u.enterprise.credit_code,
            "role": str(u.role),
            "role_label": UNIT_ROLE_LABELS[UnitRole(u.role)],
            "on_site": u.on_site,
        }
        for u in units
    ]


# --- writing -------------------------------------------------------------------------------------


async def _region(code: Any, field: str = "region_code") -> str:
    code = "" if code is None else str(code).strip()
    if not code:
        raise ValidationError("请选择企业注册区域", code=E.REQUIRED.code, field=field)
    if not await Region.exists(code=code):
        raise ValidationError(
            "企业注册区域不存在，请选择到区县一级", code=E.UNKNOWN_REGION.code, field=field
        )
    return code


async def _store_contract(
    store: FileStore, upload: Upload | None, access: ProjectAccess
) -> StoredFile | None:
    if upload is None:
        return None
    return await file_service.save_project_upload(
        access, store, upload.data, upload.name, purpose="unit_contract", field="contract_file"
    )


def _phone_fields(data: dict[str, Any]) -> dict[str, Any]:
    if "site_lead_phone" not in data:
        return {}
    phone = pii.validate_phone(data.get("site_lead_phone"), "site_lead_phone", required=False)
    return {
        "site_lead_phone_enc": pii.cipher().encrypt(phone),
        "site_lead_phone_masked": pii.mask_phone(phone),
    }


async def register_subcontractor(
    access: ProjectAccess, data: dict[str, Any], upload: Upload | None, store: FileStore
) -> ParticipatingUnit:
    """登记分包单位: validate, create or link the enterprise, add it to the project."""
    require_unit_admin(access)
    name = text(data, "name", "单位名称", required=True)
    credit_code = pii.validate_credit_code(data.get("credit_code"), "credit_code")
    entry_date = parse_date(data.get("entry_date"), "entry_date", "进场日期", prompt="请选择")
    region_code = await _region(data.get("region_code"))
    registered_on = parse_date(
        data.get("registered_on"), "registered_on", "企业注册日期", prompt="请选择"
    )
    assert entry_date and registered_on
    today = localtime.project_today(access.project)
    if registered_on > today:
        raise ValidationError(
            "企业注册日期不能晚于今天", code=E.INVALID_DATE.code, field="registered_on"
        )
    if registered_on > entry_date:
        raise ValidationError(
            "企业注册日期不能晚于进场日期", code=E.INVALID_DATE.code, field="registered_on"
        )
    specialty = text(data, "specialty", "承包专业", max_len=64)
    role = str(data.get("role") or UnitRole.SPECIALTY_SUB.value)
    if role not in {r.value for r in SUBCONTRACTOR_ROLES}:
        raise ValidationError(
            "登记的单位只能是专业分包或劳务分包", code=E.INVALID_CHOICE.code, field="role"
        )
    site_lead = text(data, "site_lead", "现场负责人", max_len=64)
    phone = _phone_fields(data)

    enterprise = await Enterprise.get_or_none(credit_code=credit_code)
    if enterprise is not None:
        if enterprise.name != name:
            raise ValidationError(
                f"该统一社会信用代码已登记为「{enterprise.name}」，请核对单位名称",
                code=E.CREDIT_CODE_NAME_MISMATCH.code,
                field="name",
            )
        if await ParticipatingUnit.exists(
            project_id=access.project.id, enterprise_id=enterprise.id
        ):
            raise Conflict(
                code=E.UNIT_EXISTS.code,
                field="credit_code",
            )
    contract = await _store_contract(store, upload, access)
    async with in_transaction():
        if enterprise is None:
            enterprise = await Enterprise.create(
                name=name,
                credit_code=credit_code,
                region_id=region_code,
                registered_on=registered_on,
            )
        else:
            changed = []
            if enterprise.region_id is None:
                enterprise.region_id = region_code
                changed.append("region_id")
            if enterprise.registered_on is None:
                enterprise.registered_on = registered_on
                changed.append("registered_on")
            if changed:
                await enterprise.save(update_fields=changed)
        unit = await ParticipatingUnit.create(
            project_id=access.project.id,
            enterprise=enterprise,
            role=role,
            site_lead=site_lead,
            entry_date=entry_date,
            on_site=True,
            specialty=specialty,
            contract_file=contract.key if contract else None,
            contract_registered_at=localtime.now() if contract else None,
            synced=False,
            **phone,
        )
    await unit.fetch_related("enterprise")
    return unit


async def _set_exit(unit: ParticipatingUnit, exit_date: dt.date | None) -> None:
    """Validate leaving the site (退场): a date, not before entry, no active members left."""
    if exit_date is None:
        raise ValidationError("请选择出场日期", code=E.REQUIRED.code, field="exit_date")
    if exit_date > localtime.today():  # the reply's zone: the unit's project
        raise ValidationError("出场日期不能晚于今天", code=E.INVALID_DATE.code, field="exit_date")
    if unit.entry_date and exit_date < unit.entry_date:
        raise ValidationError(
            "出场日期不能早于进场日期", code=E.INVALID_DATE.code, field="exit_date"
        )
    active = await ProjectMember.filter(unit_id=unit.id, work_status=WorkStatus.ACTIVE).count()
    if active:
        raise Conflict(
            f"该单位仍有{active}名在职人员，请先办理人员退场后再将单位退场",
            code=E.UNIT_HAS_MEMBERS.code,
        )
    unit.on_site = False
    unit.exit_date = exit_date


async def exit_unit(access: ProjectAccess, unit_id: Any, data: dict[str, Any]) -> ParticipatingUnit:
    """退场: mark a unit as having left the site on a date."""
    require_unit_admin(access)
    unit = await _unit_of(access.project, unit_id)
    if not unit.on_site:
        raise Conflict(code=E.UNIT_ALREADY_EXITED.code)
    await _set_exit(
        unit, parse_date(data.get("exit_date"), "exit_date", "出场日期", prompt="请选择")
    )
    await unit.save(update_fields=["on_site", "exit_date"])
    return unit


async def update_unit(
    access: ProjectAccess,
    unit_id: Any,
    data: dict[str, Any],
    upload: Upload | None,
    store: FileStore,
) -> ParticipatingUnit:
    """编辑单位: name (hand-registered units only), dates, entry state, region, contract."""
    access.require(MANAGE)
    unit = await _unit_of(access.project, unit_id)
    if not can_admin_units(access) and unit.id not in access.unit_ids:
        raise Forbidden(code=E.UNIT_NOT_YOURS.code)
    ent: Enterprise = unit.enterprise
    if data.get("credit_code") not in (None, "", ent.credit_code):
        raise ValidationError(
            "统一社会信用代码不可修改", code=E.READ_ONLY.code, field="credit_code"
        )
    unit_changes: list[str] = []
    ent_changes: list[str] = []
    if "name" in data:
        name = text(data, "name", "单位名称", required=True)
        if name != ent.name:
            if unit.synced:
                raise ValidationError(
                    "该单位信息来自施工许可数据，单位名称不可修改",
                    code=E.READ_ONLY.code,
                    field="name",
                )
            ent.name = name
            ent_changes.append("name")
    if "region_code" in data:
        ent.region_id = await _region(data.get("region_code"))
        ent_changes.append("region_id")
    if "registered_on" in data:
        reg = parse_date(
            data.get("registered_on"), "registered_on", "企业注册日期", prompt="请选择"
        )
        if reg and reg > localtime.project_today(access.project):
            raise ValidationError(
                "企业注册日期不能晚于今天", code=E.INVALID_DATE.code, field="registered_on"
            )
        ent.registered_on = reg
        ent_changes.append("registered_on")
    if "entry_date" in data:
        unit.entry_date = parse_date(
            data.get("entry_date"), "entry_date", "进场日期", prompt="请选择"
        )
        unit_changes.append("entry_date")
    for key, label, limit in (("specialty", "承包专业", 64), ("site_lead", "现场负责人", 64)):
        if key in data:
            setattr(unit, key, text(data, key, label, max_len=limit))
            unit_changes.append(key)
    phone = _phone_fields(data)
    for key, value in phone.items():
        setattr(unit, key, value)
        unit_changes.append(key)
    on_site = parse_bool(data.get("on_site"), "on_site", "进场状态")
    if on_site is False and unit.on_site:
        if not can_admin_units(access):
            raise Forbidden(
                "仅建设单位、施工总承包单位或项目管理人员可办理单位退场",
                code=E.UNIT_ADMIN_ONLY.code,
            )
        await _set_exit(
            unit, parse_date(data.get("exit_date"), "exit_date", "出场日期", prompt="请选择")
        )
        unit_changes += ["on_site", "exit_date"]
    elif on_site is True and not unit.on_site:  # back on site (再次进场)
        unit.on_site, unit.exit_date = True, None
        unit_changes += ["on_site", "exit_date"]
    elif data.get("exit_date") and unit.on_site and on_site is None:
        raise ValidationError(
            "单位在场时不能填写出场日期，请将进场状态改为退场",
            code=E.INVALID_DATE.code,
            field="exit_date",
        )
    elif "exit_date" in data and not unit.on_site:
        await _set_exit(
            unit, parse_date(data.get("exit_date"), "exit_date", "出场日期", prompt="请选择")
        )
        unit_changes.append("exit_date")
    if unit.entry_date and unit.exit_date and unit.exit_date < unit.entry_date:
        raise ValidationError(
            "出场日期不能早于进场日期", code=E.INVALID_DATE.code, field="exit_date"
        )
    contract = await _store_contract(store, upload, access)
    if contract is not None:
        unit.contract_file = contract.key
        unit.contract_registered_at = localtime.now()
        unit_changes += ["contract_file", "contract_registered_at"]
    async with in_transaction():
        if ent_changes:
            await ent.save(update_fields=sorted(set(ent_changes)))
        if unit_changes:
            await unit.save(update_fields=sorted(set(unit_changes)))
    return unit

"""Projects from construction-permit data: import/upsert, lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from tortoise.transactions import in_transaction

from models import (
    Enterprise,
    KeyPersonnel,
    ManagingLevel,
    ParticipatingUnit,
    PersonType,
    Project,
    ProjectMember,
    Region,
    UnitRole,
    WorkStatus,
)
from realname import error_codes as E
from realname.contract import UNSTORABLE, storable
from realname.errors import AppError, ValidationError
from services import localtime, pii, sync
from services.dates import parse_date
from services.regions import ensure_regions
from services.schemas.projectinfo import COST_MAX

IMPORT_UNIT_ROLES = ("builder", "supervisor", "general_contractor")
KEY_ROLES = ("project_manager", "chief_supervisor")


def _req(row: dict[str, Any], key: str, label: str, where: str = "", max_len: int = 64) -> Any:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"缺少{label}", code=E.REQUIRED.code, field=f"{where}{key}")
    return _text(row, key, label, where, max_len)


def _text(row: dict[str, Any], key: str, label: str, where: str = "", max_len: int = 64) -> str:
    """An optional text field of a permit row, as long as its column allows (PermitRow)."""
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(f"{label}应为文本", code=E.INVALID_FIELD.code, field=f"{where}{key}")
    text = str(value).strip()
    if len(text) > max_len:
        raise ValidationError(
            f"{label}不能超过{max_len}个字符", code=E.TOO_LONG.code, field=f"{where}{key}"
        )
    if not storable(text):
        raise ValidationError(UNSTORABLE, code=E.INVALID_FIELD.code, field=f"{where}{key}")
    return text


def _choice(value: Any, allowed: Sequence[str], label: str, field: str) -> str:
    """``value`` when it is one of ``allowed``; otherwise 「<label>应为 a / b / c」."""
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(
            f"{label}应为 {' / '.join(allowed)}", code=E.INVALID_CHOICE.code, field=field
        )
    return value


def _objects(row: dict[str, Any], key: str, label: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of the list ``row[key]`` (absent: none), each with its field prefix
    (``units[0].``); refused as it goes: not a list, or an item that is not an object."""
    items = row.get(key) or []
    if not isinstance(items, list):
        raise ValidationError(f"{label}应为列表", code=E.INVALID_FIELD.code, field=key)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError(f"{label}应为对象", code=E.INVALID_ROW.code, field=f"{key}[{i}]")
        yield f"{key}[{i}].", item


def parse_project_row(row: Any, regions: set[str]) -> dict[str, Any]:
    """Validate one permit row; raise ValidationError naming the field."""
    if not isinstance(row, dict):
        raise ValidationError("每一项应为 JSON 对象", code=E.INVALID_ROW.code, field="")
    out: dict[str, Any] = {
        "code": _req(row, "code", "项目编号"),
        "name": _req(row, "name", "项目名称", max_len=200),
        "type": _text(row, "type", "项目类型"),
        "permit_number": _text(row, "permit_number", "施工许可证号"),
        "permit_authority": _text(row, "permit_authority", "发证机关", max_len=128),
    }
    region_code = _req(row, "region_code", "项目区域")
    if region_code not in regions:
        raise ValidationError("项目区域代码不存在", code=E.UNKNOWN_REGION.code, field="region_code")
    out["region_code"] = region_code
    out["managing_level"] = _choice(
        row.get("managing_level") or "county",
        [m.value for m in ManagingLevel],
        "管理层级",
        "managing_level",
    )
    cost = row.get("cost")
    if cost not in (None, ""):
        try:
            out["cost"] = Decimal(str(cost))
        except InvalidOperation as exc:
            raise ValidationError("造价应为数字", code=E.INVALID_NUMBER.code, field="cost") from exc
        if not out["cost"].is_finite() or abs(out["cost"]) > COST_MAX:
            raise ValidationError("造价超出范围", code=E.INVALID_NUMBER.code, field="cost")
        if out["cost"] < 0:
            raise ValidationError("造价不能为负数", code=E.INVALID_NUMBER.code, field="cost")
        out["cost"] = min(out["cost"].quantize(Decimal("0.01")), COST_MAX)
    else:
        out["cost"] = None
    out["units"] = []
    for where, unit in _objects(row, "units", "参建单位"):
        role = _choice(
            _req(unit, "role", "责任主体", where), IMPORT_UNIT_ROLES, "责任主体", f"{where}role"
        )
        out["units"].append(
            {
                "role": role,
                "name": _req(unit, "name", "企业名称", where, max_len=128),
                "credit_code": pii.validate_credit_code(
                    unit.get("credit_code"), f"{where}credit_code"
                ),
                "site_lead": _text(unit, "site_lead", "现场负责人", where),
                "site_lead_phone": pii.validate_phone(
                    unit.get("site_lead_phone"), f"{where}site_lead_phone", required=False
                ),
                "entry_date": parse_date(
                    unit.get("entry_date"), f"{where}entry_date", "进场日期", required=False
                ),
            }
        )
    out["key_personnel"] = []
    codes = {u["credit_code"] for u in out["units"]}
    for where, kp in _objects(row, "key_personnel", "关键岗位人员"):
        role = _choice(_req(kp, "role", "岗位", where), KEY_ROLES, "岗位", f"{where}role")
        unit_code = kp.get("unit_credit_code")
        if unit_code:
            unit_code = pii.validate_credit_code(unit_code, f"{where}unit_credit_code")
            if unit_code not in codes:
                raise ValidationError(
                    code=E.UNKNOWN_UNIT.code,
                    field=f"{where}unit_credit_code",
                )
        out["key_personnel"].append(
            {
                "role": role,
                "name": _req(kp, "name", "姓名", where),
                "id_number": pii.validate_id_number(kp.get("id_number"), f"{where}id_number"),
                "unit_credit_code": unit_code,
            }
        )
    return out


async def upsert_project(data: dict[str, Any]) -> tuple[Project, bool]:
    """Create or update one validated project with its units and key personnel."""
    c = pii.cipher()
    now = localtime.now()
    async with in_transaction():
        project = await Project.get_or_none(code=data["code"])
        created = project is None
        fields = {
            "name": data["name"],
            "type": data["type"],
            "region_id": data["region_code"],
            "managing_level": data["managing_level"],
            "permit_number": data["permit_number"],
            "permit_authority": data["permit_authority"],
            "cost": data["cost"],
            "synced_at": now,
        }
        if project is None:
            project = await Project.create(code=data["code"], **fields)
        else:
            project.update_from_dict(fields)
            await project.save()
        unit_by_code: dict[str, ParticipatingUnit] = {}
        for u in data["units"]:
            ent, _ = await Enterprise.get_or_create(
                credit_code=u["credit_code"], defaults={"name": u["name"]}
            )
            if ent.name != u["name"]:
                ent.name = u["name"]
                await ent.save(update_fields=["name"])
            phone = u["site_lead_phone"]
            unit_fields = {
                "site_lead": u["site_lead"],
                "site_lead_phone_enc": c.encrypt(phone),
                "site_lead_phone_masked": pii.mask_phone(phone),
                "synced": True,
            }
            if u["entry_date"]:
                unit_fields["entry_date"] = u["entry_date"]
            unit, _ = await ParticipatingUnit.update_or_create(
                defaults=unit_fields, project=project, enterprise=ent, role=UnitRole(u["role"])
            )
            unit_by_code[u["credit_code"]] = unit
        await _replace_key_personnel(project, data["key_personnel"], unit_by_code, now)
    return project, created


async def _replace_key_personnel(
    project: Project,
    people: list[dict[str, Any]],
    unit_by_code: dict[str, ParticipatingUnit],
    now: dt.datetime,
) -> None:
    """The permit's PM / chief supervisor: the imported list of a role replaces the current one.

    Whoever held a listed role and is no longer named has the post ended (``ended_at``; the row is
    kept, rule 12): they stop being listed and lose the rule-9 sign-in and access through it. A
    role the row does not list is left as it is. Each change is audited.
    """
    c = pii.cipher()
    named: dict[str, set[str]] = {}
    for kp in people:
        bidx = c.blind_index("id", kp["id_number"])
        assert bidx is not None  # validated, never blank
        named.setdefault(kp["role"], set()).add(bidx)
        kp_unit = unit_by_code.get(kp["unit_credit_code"] or "")
        existing = await KeyPersonnel.get_or_none(
            project=project, role=kp["role"], id_number_bidx=bidx
        )
        if existing is None:
            row = await KeyPersonnel.create(
                project=project,
                role=kp["role"],
                name=kp["name"],
                id_number_enc=c.encrypt(kp["id_number"]),
                id_number_bidx=bidx,
                unit=kp_unit,
                started_at=now,
            )
            await _audit_post(project, "key_personnel.appointed", row)
            continue
        existing.name = kp["name"]
        existing.unit = kp_unit  # type: ignore[assignment]
        if existing.ended_at is not None:  # named again after being replaced
            existing.ended_at = None
            existing.started_at = now
            await existing.save()
            await _audit_post(project, "key_personnel.appointed", existing)
        else:
            await existing.save()
    for role, keep in named.items():
        for old in await KeyPersonnel.filter(project=project, role=role, ended_at=None).exclude(
            id_number_bidx__in=list(keep)
        ):
            old.ended_at = now
            await old.save(update_fields=["ended_at"])
            await _audit_post(project, "key_personnel.ended", old)
            await _end_permit_post_membership(project, old)


async def _end_permit_post_membership(project: Project, old: KeyPersonnel) -> None:
    """A replaced PM / chief supervisor also carried as post personnel in that post leaves it."""
    members = await ProjectMember.filter(
        project_id=project.id,
        person__id_number_bidx=old.id_number_bidx,
        person_type=PersonType.MANAGEMENT,
        post=old.role,
        work_status=WorkStatus.ACTIVE,
    )
    today = localtime.project_today(project)
    for m in members:
        await ProjectMember.filter(id=m.id).update(
            work_status=WorkStatus.LEFT, exit_date=max(today, m.entry_date)
        )
        await _audit_post(project, "post.exit", old, target=f"member:{m.id}")
    await sync.mark_members_changed([m.id for m in members])


async def _audit_post(project: Project, action: str, row: KeyPersonnel, target: str = "") -> None:
    from services import audit

    await audit.record(
        action,
        actor_kind="system",
        actor_id="import",
        project_id=project.id,
        target=target or f"key_personnel:{row.id}",
        detail={"role": row.role, "reason": "permit_import"},
    )


async def import_projects(rows: Any) -> dict[str, Any]:
    """Import permit rows: valid rows upserted, invalid ones reported by index and field."""
    if not isinstance(rows, list):
        raise ValidationError("导入文件应为 JSON 数组", code=E.INVALID_FILE.code, field="")
    await ensure_regions()
    regions = set(cast(list[str], await Region.all().values_list("code", flat=True)))
    created = updated = 0
    errors: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        try:
            data = parse_project_row(row, regions)
            _, was_created = await upsert_project(data)
        except AppError as exc:
            errors.append(
                {"index": index, "field": exc.field, "code": exc.code, "message": exc.message}
            )
            continue
        if was_created:
            created += 1
        else:
            updated += 1
    return {"created": created, "updated": updated, "errors": errors, "total": len(rows)}

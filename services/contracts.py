"""Contracts (合同管理): rule 4's warnings (yellow > 5 days, orange > 10, red > 30 days after
entry without a contract in force), the three tabs, upload, edit, terminate, delete-and-re-sign."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import PersonType, ProjectMember, WorkStatus
from models.contracts import (
    CONTRACT_STATUS_LABELS,
    TERMINATION_TYPES,
    ContractStatus,
    LabourContract,
)
from models.files import StoredFile
from realname import error_codes as E
from realname.errors import Conflict, NotFound, ValidationError, require
from realname.storage import FileStore
from services import labour, localtime, pii
from services.files import DOCUMENTS, check_upload, save_project_upload
from services.identity import ProjectAccess
from services.listing import numbered, paged
from services.schemas.contracts import ContractCreate, ContractTerminate, ContractUpdate

YELLOW, ORANGE, RED = "yellow", "orange", "red"
WARNING_LABELS = {YELLOW: "黄色预警", ORANGE: "橙色预警", RED: "红色预警"}


def warning_level(entry_date: dt.date, has_contract: bool, today: dt.date) -> str | None:
    """The warning for a member entered on `entry_date`, as of `today` (None: no warning)."""
    if has_contract:
        return None
    days = (today - entry_date).days
    if days > 30:
        return RED
    if days > 10:
        return ORANGE
    if days > 5:
        return YELLOW
    return None


async def members_with_contract(member_ids: Iterable[int]) -> set[int]:
    """Which of these members have a contract in force (uploaded, not terminated or deleted)."""
    ids = list(set(member_ids))
    if not ids:
        return set()
    rows = cast(
        list[int],
        await LabourContract.filter(
            member_id__in=ids, status=ContractStatus.ACTIVE, deleted_at__isnull=True
        ).values_list("member_id", flat=True),
    )
    return set(rows)


async def red_member_ids(members: Iterable[ProjectMember], on: dt.date) -> set[int]:
    """Labour members whose missing contract is at the red level on `on` (their punches blocked)."""
    candidates = [
        m
        for m in members
        if m.person_type == PersonType.LABOUR and warning_level(m.entry_date, False, on) == RED
    ]
    if not candidates:
        return set()
    signed = await members_with_contract(m.id for m in candidates)
    return {m.id for m in candidates if m.id not in signed}


# --- contract state of members (shown on the member, the tabs and the workbench) -----------------


async def contract_states(
    members: Iterable[ProjectMember], today: dt.date
) -> dict[int, dict[str, Any]]:
    """Per member: contract status and, for active labour members without one, the warning."""
    members = list(members)
    signed = await members_with_contract(m.id for m in members)
    states: dict[int, dict[str, Any]] = {}
    for m in members:
        has = m.id in signed
        status = ContractStatus.ACTIVE if has else ContractStatus.UNSIGNED
        level = None
        if m.person_type == PersonType.LABOUR and m.work_status == WorkStatus.ACTIVE:
            level = warning_level(m.entry_date, has, today)
        states[m.id] = {
            "contract_status": status.value,
            "contract_status_label": CONTRACT_STATUS_LABELS[status],
            "contract_warning": level,
            "contract_warning_label": WARNING_LABELS.get(level or "", ""),
            "days_since_entry": (today - m.entry_date).days,
        }
    return states


def _unsigned_qs(project_id: int):  # noqa: ANN202 - a Tortoise queryset
    """Active labour members of the project without a contract in force."""
    in_force = LabourContract.filter(
        project_id=project_id, status=ContractStatus.ACTIVE, deleted_at__isnull=True
    ).values("member_id")
    return ProjectMember.filter(
        project_id=project_id, person_type=PersonType.LABOUR, work_status=WorkStatus.ACTIVE
    ).exclude(id__in=Subquery(in_force))


async def warning_summary(access: ProjectAccess, today: dt.date) -> dict[str, Any]:
    """Counts of the unsigned active labour members the caller sees, per warning level."""
    counts = {YELLOW: 0, ORANGE: 0, RED: 0}
    members: dict[str, list[int]] = {YELLOW: [], ORANGE: [], RED: []}
    unsigned = access.rows(_unsigned_qs(access.project.id))
    for mid, entry in await unsigned.values_list("id", "entry_date"):
        level = warning_level(entry, False, today)
        if level:
            counts[level] += 1
            members[level].append(mid)
    return {
        "counts": counts,
        "member_ids": members,
        "labels": {k: WARNING_LABELS[k] for k in counts},
    }


# --- the three tabs ------------------------------------------------------------------------------


def _search(qs, q: str, *, member_path: str = ""):  # noqa: ANN001, ANN202 - Tortoise querysets
    """姓名/身份证号/合同编号 search: exact ID number (blind index) or name / number substring."""
    q = (q or "").strip()
    if not q:
        return qs
    person = f"{member_path}person__"
    cond = Q(**{f"{person}name__icontains": q})
    bidx = pii.cipher().blind_index("id", q)
    if bidx is not None:  # always, q is not blank
        cond |= Q(**{f"{person}id_number_bidx": bidx})
    if member_path:
        cond |= Q(number__icontains=q)
    return qs.filter(cond)


async def list_unsigned(
    access: ProjectAccess,
    *,
    q: str = "",
    warning: str = "",
    page: int = 1,
    size: int = 10,
    today: dt.date | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """未签约: active labour members without a contract in force, most overdue first."""
    today = today or localtime.project_today(access.project)
    qs = access.rows(_search(_unsigned_qs(access.project.id), q))
    if warning:
        if warning not in WARNING_LABELS:
            raise ValidationError("预警等级应为 yellow、orange 或 red", field="warning")
        # entry_date bounds that give exactly this level as of today
        bounds = {RED: (None, 31), ORANGE: (30, 11), YELLOW: (10, 6)}[warning]
        newest, oldest = bounds
        qs = qs.filter(entry_date__lte=today - dt.timedelta(days=oldest))
        if newest is not None:
            qs = qs.filter(entry_date__gte=today - dt.timedelta(days=newest))
    total = await qs.count()
    members = await labour.member_page(qs, page, size, order=("entry_date", "id"))
    states = await contract_states(members, today)
    full = labour.show_pii(access)
    rows = [
        {"seq": seq, **labour.member_public(m, full, states[m.id])}
        for seq, m in numbered(members, page, size)
    ]
    return rows, total


def contract_public(c: LabourContract, full: bool, seq: int | None = None) -> dict[str, Any]:
    """A contract row: 合同编号, 姓名, 身份证号, 手机号, 甲方, dates, 解约 fields, 附件."""
    member: ProjectMember = c.member  # type: ignore[assignment]
    person = member.person
    status = ContractStatus(c.status)
    return {
        "seq": seq,
        "id": c.id,
        "member_id": member.id,
        "number": c.number,
        **{
            k: v
            for k, v in labour.person_fields(person, full).items()
            if k in ("name", "id_number", "phone", "gender")
        },
        "party_a": c.party_a,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "status": status.value,
        "status_label": CONTRACT_STATUS_LABELS[status],
        "termination_type": c.termination_type,
        "termination_reason": c.termination_reason,
        "termination_initiated_at": c.termination_initiated_at,
        "termination_confirmed_at": c.termination_confirmed_at,
        "attachment": {"id": c.attachment_id, "name": c.attachment_name}
        if c.attachment_id
        else None,
        "uploaded_at": c.uploaded_at,
    }


async def list_contracts(
    access: ProjectAccess,
    status: str,
    *,
    q: str = "",
    termination_type: str = "",
    page: int = 1,
    size: int = 10,
) -> tuple[list[dict[str, Any]], int]:
    """履约中 / 已解约: the project's contracts in that state (deleted ones hidden)."""
    if status not in (ContractStatus.ACTIVE, ContractStatus.TERMINATED):
        raise ValidationError("合同状态应为 active 或 terminated", field="status")
    qs = access.rows(
        LabourContract.filter(project_id=access.project.id, status=status, deleted_at__isnull=True),
        "member__unit_id",
    )
    if termination_type:
        qs = qs.filter(termination_type=termination_type)
    qs = _search(qs, q, member_path="member__")
    total = await qs.count()
    rows = await paged(qs, page, size, "-id").prefetch_related("member__person")
    full = labour.show_pii(access)
    return [contract_public(c, full, seq) for seq, c in numbered(rows, page, size)], total


# --- upload, edit, terminate, delete-and-re-sign -------------------------------------------------


def _dates(
    body: ContractCreate | ContractUpdate,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[dt.date, dt.date | None]:
    """The contract's dates: those sent replace the stored ones (an empty end: open-ended)."""
    if "start_date" in body.model_fields_set or start is None:
        start = require(body.start_date, "start_date", "合同开始日期")
    if "end_date" in body.model_fields_set:
        end = body.end_date
    assert start is not None
    if end is not None and end < start:
        raise ValidationError(
            "合同截止日期不能早于合同开始日期", code=E.INVALID_DATE.code, field="end_date"
        )
    return start, end


async def _contract_member(access: ProjectAccess, member_id: int) -> ProjectMember:
    member = await ProjectMember.get_or_none(id=member_id, project_id=access.project.id)
    if member is None or not access.sees(member.unit_id):
        raise NotFound("人员不存在", code=E.MEMBER_NOT_FOUND.code)
    access.check_manages(member.unit_id)
    return member


async def _contract(access: ProjectAccess, contract_id: int) -> LabourContract:
    contract = await LabourContract.get_or_none(
        id=contract_id, project_id=access.project.id, deleted_at__isnull=True
    )
    if contract is None:
        raise NotFound(code=E.CONTRACT_NOT_FOUND.code)
    await _contract_member(access, contract.member_id)
    return contract


async def _store(
    access: ProjectAccess, store: FileStore, upload: tuple[bytes, str], max_bytes: int
) -> StoredFile:
    return await save_project_upload(
        access,
        store,
        upload[0],
        upload[1],
        purpose="contract",
        max_bytes=max_bytes,
        field="attachment",
    )


async def create_contract(
    access: ProjectAccess,
    body: ContractCreate,
    upload: tuple[bytes, str] | None,
    store: FileStore,
    max_bytes: int,
) -> LabourContract:
    """上传: sign an active labour member's contract with its attachment."""
    member = await _contract_member(access, body.member_id)
    if member.person_type != PersonType.LABOUR:
        raise Conflict("仅劳务人员需要上传劳动合同", code=E.NOT_LABOUR.code, field="member_id")
    if member.work_status != WorkStatus.ACTIVE:
        raise Conflict("该人员已离职，不能签约", code=E.MEMBER_LEFT.code, field="member_id")
    start, end = _dates(body)
    if upload is None:
        raise ValidationError("请上传合同附件", code=E.REQUIRED.code, field="attachment")
    check_upload(upload[0], upload[1], DOCUMENTS, max_bytes, "attachment")
    if await members_with_contract([member.id]):
        raise Conflict(
            code=E.CONTRACT_EXISTS.code,
            field="member_id",
        )
    async with in_transaction():
        stored = await _store(access, store, upload, max_bytes)
        contract = await LabourContract.create(
            project_id=access.project.id,
            member_id=member.id,
            number=body.number,
            party_a=body.party_a,
            start_date=start,
            end_date=end,
            attachment=stored,
            attachment_key=stored.key,
            attachment_name=stored.name,
            status=ContractStatus.ACTIVE,
            uploaded_by=access.principal.actor,
        )
    return await LabourContract.get(id=contract.id).prefetch_related("member__person")


async def update_contract(
    access: ProjectAccess,
    contract_id: int,
    body: ContractUpdate,
    upload: tuple[bytes, str] | None,
    store: FileStore,
    max_bytes: int,
) -> LabourContract:
    """编辑: change a contract in force (number, party A, dates, replace the attachment); only the
    fields sent change, and a number or party A sent empty is refused."""
    contract = await _contract(access, contract_id)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict(code=E.CONTRACT_NOT_ACTIVE.code)
    changes: dict[str, Any] = {}
    if "number" in body.model_fields_set:
        changes["number"] = require(body.number, "number", "合同编号")
    if "party_a" in body.model_fields_set:
        changes["party_a"] = require(body.party_a, "party_a", "甲方")
    changes["start_date"], changes["end_date"] = _dates(
        body, contract.start_date, contract.end_date
    )
    if upload is not None:
        check_upload(upload[0], upload[1], DOCUMENTS, max_bytes, "attachment")
    async with in_transaction():
        if upload is not None:
            stored = await _store(access, store, upload, max_bytes)
            changes.update(
                attachment_id=stored.id, attachment_key=stored.key, attachment_name=stored.name
            )
        await LabourContract.filter(id=contract.id).update(**changes)
    return await LabourContract.get(id=contract.id).prefetch_related("member__person")


def _when(value: Any, field: str, label: str, default: dt.datetime) -> dt.datetime:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        text = str(value).strip().replace("Z", "+00:00")
        when = (
            dt.datetime.fromisoformat(text)
            if len(text) > 10
            else dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        )
    except ValueError as exc:
        raise ValidationError(
            f"{label}格式错误，应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM:SS",
            code=E.INVALID_DATE.code,
            field=field,
        ) from exc
    if when.tzinfo is None:  # entered in China time
        when = when.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return when


async def terminate_contract(
    access: ProjectAccess, contract_id: int, body: ContractTerminate
) -> LabourContract:
    """解约: end a contract with type, reason, initiated and confirmed times."""
    contract = await _contract(access, contract_id)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict("该合同已解约", code=E.CONTRACT_NOT_ACTIVE.code)
    ttype = body.termination_type
    if not ttype:
        raise ValidationError("请选择解约类型", code=E.REQUIRED.code, field="termination_type")
    if ttype not in TERMINATION_TYPES:
        raise ValidationError(
            "解约类型应为" + "、".join(TERMINATION_TYPES),
            code=E.INVALID_TERMINATION_TYPE.code,
            field="termination_type",
        )
    now = localtime.now()
    initiated = _when(body.initiated_at, "initiated_at", "发起解约时间", now)
    confirmed = _when(body.confirmed_at, "confirmed_at", "确认解约时间", now)
    if confirmed < initiated:
        raise ValidationError(
            "确认解约时间不能早于发起解约时间", code=E.INVALID_DATE.code, field="confirmed_at"
        )
    if confirmed > now + dt.timedelta(minutes=5):
        raise ValidationError(
            "确认解约时间不能晚于当前时间", code=E.INVALID_DATE.code, field="confirmed_at"
        )
    await LabourContract.filter(id=contract.id).update(
        status=ContractStatus.TERMINATED,
        termination_type=ttype,
        termination_reason=body.termination_reason,
        termination_initiated_at=initiated,
        termination_confirmed_at=confirmed,
    )
    return await LabourContract.get(id=contract.id).prefetch_related("member__person")


async def delete_contract(access: ProjectAccess, contract_id: int) -> None:
    """删除 (to re-sign): hide a contract in force; kept for the record (rule 12)."""
    contract = await _contract(access, contract_id)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict("已解约的合同不能删除", code=E.CONTRACT_NOT_ACTIVE.code)
    await LabourContract.filter(id=contract.id).update(deleted_at=localtime.now())

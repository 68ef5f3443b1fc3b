"""Project roster (项目花名册): filtered list, .xlsx export (audited, masked by role), pushing
the personnel to the terminals (人员更新下发), re-syncing face photos (重新下发人脸照片)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from models import Device, DeviceCommand, DeviceKind, PersonType, ProjectMember, WorkStatus
from models.people import PERSON_TYPE_LABELS, WORK_STATUS_LABELS
from realname import error_codes as E
from realname.errors import Conflict, Forbidden, NotFound, ValidationError
from services import dates, devices, labour, pii
from services.exports import Column
from services.identity import ProjectAccess
from services.listing import numbered

MISSING_FACE_NOTICE = "缺失照片人员请使用实名制采集机重新采集人员实名制信息"
TERMINAL_KINDS = (DeviceKind.ATTENDANCE, DeviceKind.MOBILE, DeviceKind.LEGACY)
EXPORT_BATCH = 500
EXPORT_COLUMNS = [
    Column("序号", 6),
    Column("姓名", 10),
    Column("性别", 6),
    Column("身份证号", 21),
    Column("手机号", 14),
    Column("人员类型", 10),
    Column("所属单位", 28),
    Column("所属班组", 14),
    Column("工种/岗位", 12),
    Column("工作状态", 8),
    Column("进场日期", 12),
    Column("离职日期", 12),
    Column("工资卡银行", 16),
    Column("工资卡号", 22),
    Column("联行号", 14),
    Column("人脸照片", 10),
]


@dataclass
class RosterFilter:
    """The roster's filters: 姓名, 身份证号, 入职日期 range, 性别, 人员类型 (and 工作状态)."""

    name: str = ""
    id_number: str = ""
    entry_from: dt.date | None = None
    entry_to: dt.date | None = None
    gender: str = ""
    person_type: str = ""
    work_status: str = ""

    @classmethod
    def from_args(cls, args: Any) -> RosterFilter:
        """Parse and check the query arguments."""
        f = cls(
            name=(args.get("name") or "").strip(),
            id_number=(args.get("id_number") or "").strip().upper(),
            entry_from=dates.parse_date(
                args.get("entry_from"), "entry_from", "入职开始日期", required=False
            ),
            entry_to=dates.parse_date(
                args.get("entry_to"), "entry_to", "入职结束日期", required=False
            ),
            gender=(args.get("gender") or "").strip(),
            person_type=(args.get("person_type") or "").strip(),
            work_status=(args.get("work_status") or "").strip(),
        )
        if f.gender and f.gender not in ("男", "女"):
            raise ValidationError("性别应为男或女", field="gender")
        if f.person_type and f.person_type not in (PersonType.LABOUR, PersonType.MANAGEMENT):
            raise ValidationError(
                "人员类型应为 labour（劳务人员）或 management（管理人员）", field="person_type"
            )
        if f.work_status and f.work_status not in (WorkStatus.ACTIVE, WorkStatus.LEFT):
            raise ValidationError("工作状态应为 active（在职）或 left（离职）", field="work_status")
        if f.entry_from and f.entry_to and f.entry_from > f.entry_to:
            raise ValidationError(
                "入职开始日期不能晚于结束日期", code=E.INVALID_DATE.code, field="entry_to"
            )
        return f


async def _query(access: ProjectAccess, f: RosterFilter):  # noqa: ANN202 - a Tortoise queryset
    qs = access.rows(ProjectMember.filter(project_id=access.project.id))
    if f.name:
        qs = qs.filter(person__name__icontains=f.name)
    if f.id_number:
        qs = qs.filter(person__id_number_bidx=pii.cipher().blind_index("id", f.id_number))
    if f.entry_from:
        qs = qs.filter(entry_date__gte=f.entry_from)
    if f.entry_to:
        qs = qs.filter(entry_date__lte=f.entry_to)
    if f.gender:
        qs = qs.filter(person__gender=f.gender)
    if f.person_type:
        qs = qs.filter(person_type=f.person_type)
    if f.work_status:
        qs = qs.filter(work_status=f.work_status)
    return qs


def roster_row(member: ProjectMember, full: bool, seq: int) -> dict[str, Any]:
    """A roster row: the member plus whether the face photo is missing."""
    row = {"seq": seq, **labour.member_public(member, full)}
    row["face_missing"] = not row["has_face"]
    return row


async def list_roster(
    access: ProjectAccess, f: RosterFilter, *, page: int = 1, size: int = 10
) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """A page of the roster, with the missing-photo count and notice of the filtered set."""
    qs = await _query(access, f)
    total = await qs.count()
    missing = await qs.filter(person__face_key__isnull=True).count()
    members = await labour.member_page(qs, page, size)
    full = labour.show_pii(access)
    rows = [roster_row(m, full, seq) for seq, m in numbered(members, page, size)]
    extra = {"missing_face_count": missing, "notice": MISSING_FACE_NOTICE if missing else ""}
    return rows, total, extra


def export_cells(member: ProjectMember, full: bool, seq: int) -> list[Any]:
    """One roster row of the export, in EXPORT_COLUMNS order (masked unless `full`)."""
    d = labour.member_public(member, full)
    ptype = PersonType(member.person_type)
    return [
        seq,
        d["name"],
        d["gender"],
        d["id_number"],
        d["phone"],
        PERSON_TYPE_LABELS[ptype],
        d["unit_name"],
        d["team_name"],
        d["work_type"] if ptype == PersonType.LABOUR else d["post_label"],
        WORK_STATUS_LABELS[WorkStatus(member.work_status)],
        member.entry_date,  # a date cell (yyyy-mm-dd)
        member.exit_date,
        d["bank_name"],
        d["bank_card"],
        d["bank_branch_code"],
        "有" if d["has_face"] else "缺失",
    ]


async def export_batches(access: ProjectAccess, f: RosterFilter) -> AsyncIterator[list[list[Any]]]:
    """The filtered roster in batches (keyset paging by id), for the streamed xlsx writer."""
    qs = await _query(access, f)
    full = labour.show_pii(access)
    last_id, seq = 0, 0
    while True:
        batch = (
            await qs.filter(id__gt=last_id)
            .order_by("id")
            .limit(EXPORT_BATCH)
            .prefetch_related(*labour.MEMBER_RELATIONS)
        )
        if not batch:
            return
        rows = []
        for m in batch:
            seq += 1
            rows.append(export_cells(m, full, seq))
        last_id = batch[-1].id
        yield rows


# --- terminals -----------------------------------------------------------------------------------


async def _terminals(access: ProjectAccess) -> list[Device]:
    terminals = await Device.filter(
        project_id=access.project.id, kind__in=list(TERMINAL_KINDS)
    ).order_by("id")
    if not terminals:
        raise Conflict(code=E.NO_TERMINALS.code)
    return terminals


async def push_personnel(access: ProjectAccess) -> list[DeviceCommand]:
    """人员更新下发: queue a person sync on every bound terminal (one pending command each).

    The site's terminals are the general contractor's: only a site-wide manager may push.
    """
    if not access.scope.can_manage or access.scope.managed is not None:
        raise Forbidden(code=E.UNIT_FORBIDDEN.code)
    commands = []
    for device in await _terminals(access):
        pending = await DeviceCommand.filter(
            device_id=device.id, type="sync_persons", status="pending"
        ).first()
        commands.append(
            pending
            or await devices.queue_command(
                device, "sync_persons", {"full": False}, created_by=access.principal.actor
            )
        )
    return commands


async def resync_face(access: ProjectAccess, member_id: int) -> list[DeviceCommand]:
    """重新下发人脸照片: ask the terminals for this person's latest face photo."""
    member = await labour.get_member(access, member_id)
    access.check_manages(member.unit_id)
    if member.work_status != WorkStatus.ACTIVE:
        raise Conflict(code=E.MEMBER_LEFT.code)
    params = {
        "person_ids": [member.person_id],
        "member_ids": [member.id],
    }
    return [
        await devices.queue_command(d, "upload_faces", params, created_by=access.principal.actor)
        for d in await _terminals(access)
    ]


async def face_key(access: ProjectAccess, member_id: int) -> str:
    """The file-store key of a visible member's face photo (callers need VIEW_PII)."""
    member = await labour.get_member(access, member_id)
    key = member.person.face_key
    if not key:
        raise NotFound(MISSING_FACE_NOTICE, code=E.FACE_MISSING.code)
    return key

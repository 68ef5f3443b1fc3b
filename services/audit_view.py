"""Reading a project's audit log (操作日志): who did what to whom, masked or not, when, from where.

Readers: enterprise admins of a participating unit of the project and regulators whose region
contains it (``project_access`` has already placed the caller on the project); everyone else is
refused. The builder, supervisor and general contractor see the whole project's log; a
subcontractor sees what its own admin accounts and the post personnel of its own units did.

Filters: ``action`` (one code, several comma-separated, or a prefix ending in ``.``, e.g.
``device.``), ``person`` (a name, or an exact ID number matched through its blind index: entries
by that person and entries about them), ``date_from`` / ``date_to`` (project-local dates).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import reduce
from typing import Any, cast

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import (
    Account,
    AccountKind,
    AuditLog,
    KeyPersonnel,
    ParticipatingUnit,
    Person,
    PersonType,
    ProjectMember,
    Team,
    UnitRole,
)
from models.contracts import LabourContract
from models.org import UNIT_ROLE_LABELS
from models.people import POST_LABELS, Post
from realname import error_codes as E
from realname.errors import Forbidden, ValidationError
from services import dates, localtime, pii
from services.exports import Column
from services.identity import ProjectAccess
from services.listing import paged

READER_KINDS = {AccountKind.ENTERPRISE, AccountKind.REGULATOR}
MAX_PERSONS = 500  # a name matching more people than this is narrowed to the first ones
_ID_RE = re.compile(r"^\d{17}[\dXx]$")

ACTION_LABELS: dict[str, str] = {
    "signin.sso": "企业登录",
    "signin.sso_refused": "企业登录被拒绝",
    "signin.qr": "扫码登录",
    "signin.qr_scanned": "扫描登录二维码",
    "signin.qr_confirmed": "确认扫码登录",
    "signin.qr_cancelled": "取消扫码登录",
    "signin.qr_refused": "扫码登录被拒绝",
    "signin.miniapp": "小程序登录",
    "signin.logout": "退出登录",
    "binding.requested": "申请实名绑定",
    "binding.bound": "实名绑定",
    "binding.no_match": "实名绑定信息不符",
    "binding.refused": "实名绑定被拒绝",
    "binding.approved": "通过实名绑定申请",
    "binding.rejected": "驳回实名绑定申请",
    "binding.unbound": "解除实名绑定",
    "projects.import": "导入项目",
    "key_personnel.appointed": "许可证关键岗位人员任职",
    "key_personnel.ended": "许可证关键岗位人员卸任",
    "team.create": "新增班组",
    "team.update": "编辑班组",
    "team.delete": "删除班组",
    "team.import": "导入班组人员",
    "member.add": "添加人员",
    "member.update": "编辑人员",
    "member.exit": "人员离职",
    "post.add": "添加岗位人员",
    "post.change": "变更岗位",
    "post.exit": "岗位人员离职",
    "duty.register": "登记履职记录",
    "contract.upload": "上传劳动合同",
    "contract.update": "编辑劳动合同",
    "contract.terminate": "解除劳动合同",
    "contract.delete": "删除劳动合同",
    "units.register": "登记参建单位",
    "units.edit": "编辑参建单位",
    "units.exit": "参建单位退场",
    "materials.month": "登记材料月报",
    "materials.wage": "登记工资专户材料",
    "materials.wage_delete": "删除工资专户材料",
    "materials.voucher_delete": "删除凭证",
    "status_change.apply": "申请项目状态变更",
    "status_change.withdraw": "撤回项目状态变更",
    "status_change.approve": "通过项目状态变更",
    "status_change.reject": "驳回项目状态变更",
    "announcements.publish": "发布通知公告",
    "announcements.withdraw": "撤回通知公告",
    "roster.export": "导出花名册",
    "roster.push": "人员更新下发（花名册）",
    "roster.face_sync": "重新下发人脸照片",
    "attendance.export.punch_stats": "导出打卡统计",
    "attendance.export.duration_stats": "导出出勤时长统计",
    "supplement.file": "发起考勤补录",
    "supplement.approve": "通过考勤补录",
    "supplement.reject": "驳回考勤补录",
    "device.register": "登记设备",
    "device.bind": "绑定设备",
    "device.unbind": "解绑设备",
    "device.rotate_secret": "重置设备密钥",
    "device.settings": "修改设备设置",
    "device.firmware": "登记固件",
    "device.network_ack": "确认设备网络变化",
    "device.online": "设备上线",
    "device.offline": "设备离线",
    "device.restore_online": "解除强制下线",
    "device.push_persons": "批量人员下发",
    "device.command.upgrade": "设备升级",
    "device.command.force_offline": "强制下线",
    "device.command.force_push": "强制下发",
    "device.command.push_persons": "人员更新下发",
    "device.command.sync_persons": "人员更新下发",
    "device.command.upload_faces": "重新下发人脸照片",
    "audit.export": "导出操作日志",
}
ROLE_LABELS: dict[str, str] = {
    "enterprise": "企业管理员",
    "person": "岗位人员",
    "regulator": "主管部门",
    "operator": "平台运营",
    "device": "设备",
    "system": "系统",
    "cli": "命令行",
    "anonymous": "匿名",
}
# What the platform's own writers put in actor_id (actor_kind "system"): shown by name, never the
# code; an id not named here shows as 系统 alone.
SYSTEM_ACTORS: dict[str, str] = {
    "import": "施工许可证同步",  # services.projects: key posts from the permit data
}
TARGET_KINDS = {
    "member": "人员",
    "person": "人员",
    "key_personnel": "许可证人员",
    "team": "班组",
    "contract": "合同",
    "unit": "参建单位",
    "status_change": "状态变更申请",
    "announcement": "通知公告",
    "duty": "履职记录",
    "voucher": "凭证",
    "project": "项目",
}
EXPORT_COLUMNS = [
    Column("操作人", 16),
    Column("角色", 12),
    Column("操作", 22),
    Column("对象", 28),
    Column("是否脱敏", 10),
    Column("时间", 20),
    Column("IP", 18),
]


def action_label(action: str) -> str:
    """The Chinese name of an action code (the code itself when unknown)."""
    return ACTION_LABELS.get(action, action)


def require_reader(access: ProjectAccess) -> None:
    """Enterprise admins of the project's units and the project's regulators read its log."""
    if access.principal.kind not in READER_KINDS:
        raise Forbidden(code=E.AUDIT_FORBIDDEN.code)


def _text(args: Any, name: str, limit: int) -> str:
    value = str(args.get(name) or "").strip()[:limit]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: nothing a database can compare
        raise ValidationError(
            "查询条件含有无效字符", code=E.INVALID_FIELD.code, field=name
        ) from exc
    return value


def _date(args: Any, name: str, label: str) -> dt.date | None:
    return dates.parse_date(args.get(name), name, label, required=False)


@dataclass(frozen=True)
class AuditFilter:
    """The list's filters, checked."""

    actions: tuple[str, ...] = ()
    person: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_args(cls, args: Any) -> AuditFilter:
        """From query arguments; a bad date or range is a ValidationError naming the field."""
        raw = _text(args, "action", 500)
        actions = tuple(a.strip()[:64] for a in raw.split(",") if a.strip())
        date_from = _date(args, "date_from", "开始日期")
        date_to = _date(args, "date_to", "结束日期")
        if date_from and date_to and date_from > date_to:
            raise ValidationError(code=E.INVALID_RANGE.code, field="date_to")
        return cls(actions, _text(args, "person", 64), date_from, date_to)

    def audit_view(self) -> list[str]:
        """The filter names in use (for the export's own audit entry; never the person)."""
        names: list[tuple[str, Any]] = [("action", self.actions), ("person", self.person)]
        names += [("date_from", self.date_from), ("date_to", self.date_to)]
        return [n for n, v in names if v]


async def _account_ids(**filters: Any) -> list[str]:
    ids = await Account.filter(**filters).values_list("id", flat=True)
    return [str(i) for i in ids]


async def _visible(access: ProjectAccess, qs: QuerySet[AuditLog]) -> QuerySet[AuditLog]:
    """A subcontractor's admin sees the entries of its own units' company accounts and post
    personnel (the row scope of `access`); site-wide callers see every entry."""
    if access.sees_every_unit:
        return qs
    units = access.rows(ParticipatingUnit.filter(project_id=access.project.id), "id")
    companies = await units.values_list("enterprise_id", flat=True)
    own = await _account_ids(enterprise_id__in=list(companies)) if companies else []
    staff = await access.rows(
        ProjectMember.filter(project_id=access.project.id, person_type=PersonType.MANAGEMENT)
    ).values_list("person_id", flat=True)
    people = await _account_ids(person_id__in=list(staff)) if staff else []
    return qs.filter(
        Q(actor_kind=AccountKind.ENTERPRISE, actor_id__in=own or ["-"])
        | Q(actor_kind=AccountKind.PERSON, actor_id__in=people or ["-"])
    )


async def _person_condition(project_id: int, person: str) -> Q:
    """Entries by or about the persons a name or an exact ID number designates."""
    if _ID_RE.match(person):
        bidx = pii.cipher().blind_index("id", person)
        persons = (
            await Person.filter(id_number_bidx=bidx).limit(MAX_PERSONS).values_list("id", flat=True)
        )
        key_people = await KeyPersonnel.filter(
            project_id=project_id, id_number_bidx=bidx
        ).values_list("id", flat=True)
    else:
        key_people = await KeyPersonnel.filter(
            project_id=project_id, name__icontains=person
        ).values_list("id", flat=True)
        named = await KeyPersonnel.filter(id__in=list(key_people)).values_list(
            "id_number_bidx", flat=True
        )
        # people of this project only: its members, and those named on its permit
        persons = (
            await Person.filter(name__icontains=person)
            .filter(
                Q(memberships__project_id=project_id) | Q(id_number_bidx__in=list(named) or ["-"])
            )
            .distinct()
            .limit(MAX_PERSONS)
            .values_list("id", flat=True)
        )
    person_ids = cast(list[int], list(persons))
    members = (
        await ProjectMember.filter(project_id=project_id, person_id__in=person_ids).values_list(
            "id", flat=True
        )
        if person_ids
        else []
    )
    contracts = (
        await LabourContract.filter(project_id=project_id, member_id__in=list(members)).values_list(
            "id", flat=True
        )
        if members
        else []
    )
    targets = [f"person:{i}" for i in person_ids] + [f"member:{i}" for i in members]
    targets += [f"contract:{i}" for i in contracts] + [f"key_personnel:{i}" for i in key_people]
    actors = await _account_ids(person_id__in=person_ids) if person_ids else []
    return Q(target__in=targets or ["-"]) | Q(
        actor_kind=AccountKind.PERSON, actor_id__in=actors or ["-"]
    )


async def _query(access: ProjectAccess, f: AuditFilter) -> QuerySet[AuditLog]:
    require_reader(access)
    qs = await _visible(access, AuditLog.filter(project_id=access.project.id))
    if f.actions:
        parts = [Q(action__startswith=a) if a.endswith(".") else Q(action=a) for a in f.actions]
        qs = qs.filter(reduce(operator.or_, parts))
    tz = localtime.project_zone(access.project)
    # local midnights, compared in UTC as stored
    if f.date_from:
        start = dt.datetime.combine(f.date_from, dt.time(), tz).astimezone(dt.UTC)
        qs = qs.filter(at__gte=start)
    if f.date_to:
        end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time(), tz)
        qs = qs.filter(at__lt=end.astimezone(dt.UTC))
    if f.person:
        qs = qs.filter(await _person_condition(access.project.id, f.person))
    return qs


def _masked(detail: dict[str, Any]) -> bool | None:
    if isinstance(detail.get("masked"), bool):
        return bool(detail["masked"])
    if isinstance(detail.get("full_pii"), bool):
        return not detail["full_pii"]
    return None


@dataclass
class _Names:
    """What a page of entries shows for its actors and targets."""

    actors: dict[str, str]  # "kind:account id" → display name
    roles: dict[str, str]  # "kind:account id" → role on this project
    labels: dict[str, str]  # target → label


async def _roles(project_id: int, accounts: list[dict[str, Any]]) -> dict[str, str]:
    """Each actor's standing on the project: the company's responsibility role (企业管理员
    （施工总承包单位）) or the person's post (岗位人员（项目经理）), else the bare kind."""
    roles: dict[str, str] = {}
    enterprise_ids = [a["enterprise_id"] for a in accounts if a["enterprise_id"]]
    unit_roles: dict[int, list[str]] = {}
    for ent, role in await ParticipatingUnit.filter(
        project_id=project_id, enterprise_id__in=enterprise_ids or [0]
    ).values_list("enterprise_id", "role"):
        unit_roles.setdefault(ent, []).append(UNIT_ROLE_LABELS[UnitRole(role)])
    person_ids = [a["person_id"] for a in accounts if a["person_id"]]
    posts: dict[int, list[str]] = {}
    if person_ids:
        for pid, post in (
            await ProjectMember.filter(
                project_id=project_id, person_id__in=person_ids, person_type=PersonType.MANAGEMENT
            )
            .exclude(post="")
            .values_list("person_id", "post")
        ):
            posts.setdefault(pid, []).append(_post_label(post))
        bidx = dict(await Person.filter(id__in=person_ids).values_list("id_number_bidx", "id"))
        for b, role in await KeyPersonnel.filter(
            project_id=project_id, id_number_bidx__in=list(bidx)
        ).values_list("id_number_bidx", "role"):
            posts.setdefault(bidx[b], []).append(_post_label(role))
    for a in accounts:
        key = f"{a['kind']}:{a['id']}"
        extra = unit_roles.get(a["enterprise_id"]) or posts.get(a["person_id"]) or []
        base = ROLE_LABELS.get(str(a["kind"]), str(a["kind"]))
        if a["kind"] == AccountKind.PERSON and not extra:
            base = "劳务人员"
        roles[key] = f"{base}（{'、'.join(sorted(set(extra)))}）" if extra else base
    return roles


def _post_label(code: str) -> str:
    try:
        return POST_LABELS[Post(code)]
    except (ValueError, KeyError):
        return code


# Targets labelled by one field of their row ("人员 张三", "合同 HT-001"...).
_NAMED_BY: dict[str, tuple[Any, str]] = {
    "member": (ProjectMember, "person__name"),
    "person": (Person, "name"),
    "team": (Team, "name"),
    "contract": (LabourContract, "number"),
    "unit": (ParticipatingUnit, "enterprise__name"),
}


async def _names(project_id: int, rows: list[AuditLog]) -> _Names:
    """Actor names and roles and target labels of a page of entries, in a few queries."""
    account_ids = {
        int(r.actor_id)
        for r in rows
        if r.actor_kind in ROLE_LABELS and r.actor_id.isdigit() and r.actor_kind != "device"
    }
    accounts = await Account.filter(id__in=list(account_ids)).values(
        "id", "kind", "display_name", "enterprise_id", "person_id"
    )
    actors = {f"{a['kind']}:{a['id']}": a["display_name"] for a in accounts}
    roles = await _roles(project_id, accounts)
    wanted: dict[str, set[int]] = {}
    for r in rows:
        kind, _, ident = r.target.partition(":")
        if kind in TARGET_KINDS and ident.isdigit():
            wanted.setdefault(kind, set()).add(int(ident))
    labels: dict[str, str] = {}
    for kind, (model, name) in _NAMED_BY.items():
        if wanted.get(kind):
            for ident, text in await model.filter(id__in=list(wanted[kind])).values_list(
                "id", name
            ):
                labels[f"{kind}:{ident}"] = f"{TARGET_KINDS[kind]} {text}"
    if wanted.get("key_personnel"):
        for ident, role, name in await KeyPersonnel.filter(
            id__in=list(wanted["key_personnel"])
        ).values_list("id", "role", "name"):
            labels[f"key_personnel:{ident}"] = f"{_post_label(role)} {name}"
    return _Names(actors, roles, labels)


def _target_label(row: AuditLog, labels: dict[str, str]) -> str:
    if row.target in labels:
        return labels[row.target]
    kind, _, ident = row.target.partition(":")
    if kind in TARGET_KINDS and ident:
        return f"{TARGET_KINDS[kind]} {ident}"
    if row.action.startswith("device.") and row.target:
        return f"设备 {row.target}"
    return row.target


def _actor_name(row: AuditLog, names: _Names) -> str:
    if row.actor_kind == "device":
        return f"设备 {row.actor_id}"
    if row.actor_kind == "system":
        named = SYSTEM_ACTORS.get(row.actor_id)
        return f"系统（{named}）" if named else "系统"
    if row.actor_kind == "cli":  # the operating-system user who ran the command
        return f"命令行（{row.actor_id}）" if row.actor_id else "命令行"
    return names.actors.get(f"{row.actor_kind}:{row.actor_id}", row.actor_id)


def _public(row: AuditLog, names: _Names) -> dict[str, Any]:
    masked = _masked(row.detail or {})
    key = f"{row.actor_kind}:{row.actor_id}"
    return {
        "id": row.id,
        "at": row.at,
        "actor_kind": row.actor_kind,
        "actor_role": names.roles.get(key) or ROLE_LABELS.get(row.actor_kind, row.actor_kind),
        "actor_name": _actor_name(row, names),
        "action": row.action,
        "action_label": action_label(row.action),
        "target": row.target,
        "target_label": _target_label(row, names.labels),
        "masked": masked,
        "masked_label": "" if masked is None else ("是" if masked else "否"),
        "ip": row.ip,
        "detail": row.detail or {},
    }


async def project_log(
    access: ProjectAccess, f: AuditFilter, page: int = 1, size: int = 20
) -> tuple[list[dict[str, Any]], int]:
    """One page of the project's audit log, newest first, with the total."""
    qs = await _query(access, f)
    total = await qs.count()
    rows = await paged(qs, page, size, "-id")
    names = await _names(access.project.id, rows)
    return [_public(r, names) for r in rows], total


async def export_batches(
    access: ProjectAccess, f: AuditFilter, batch: int = 500
) -> AsyncIterator[list[list[Any]]]:
    """The filtered log, newest first, as spreadsheet rows in batches (keyset by id)."""
    qs = await _query(access, f)
    last: int | None = None
    while True:
        page_qs = qs.filter(id__lt=last) if last is not None else qs
        rows = await page_qs.order_by("-id").limit(batch)
        if not rows:
            return
        names = await _names(access.project.id, rows)
        out = []
        for r in rows:
            d = _public(r, names)
            out.append(
                [
                    d["actor_name"],
                    d["actor_role"],
                    d["action_label"],
                    d["target_label"],
                    d["masked_label"],
                    r.at,
                    r.ip,
                ]
            )
        yield out
        last = rows[-1].id

"""Post personnel (岗位人员管理): supervision, general-contractor and subcontractor staff, and their
duty records (监理履职: meeting date, host, sign-in sheet; 项目负责人履职).

Post personnel are management project members with a post; they are added by exact ID-number
search among enrolled persons (rule 6).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypedDict

from tortoise.transactions import in_transaction

from models import ParticipatingUnit, PersonType, Post, ProjectMember, UnitRole, WorkStatus
from models.duty import DUTY_KIND_LABELS, DutyKind, DutyRecord
from models.people import POST_LABELS
from realname import error_codes as E
from realname.errors import Conflict, NotFound, ValidationError, require
from realname.storage import FileStore
from services import labour, localtime, sync
from services.files import DOCUMENTS, check_upload, save_project_upload
from services.identity import ProjectAccess
from services.listing import numbered, paged
from services.schemas.posts import DutyCreate, PostAdd, PostChange, PostExit


@dataclass(frozen=True)
class Category:
    """A post-personnel tab: which unit roles it covers and which posts it offers."""

    key: str
    label: str
    roles: frozenset[str]
    posts: tuple[Post, ...]


_SITE_POSTS = (
    Post.PROJECT_MANAGER,
    Post.DEPUTY_PROJECT_MANAGER,
    Post.TECHNICAL_LEAD,
    Post.LABOUR_OFFICER,
    Post.SAFETY_OFFICER,
    Post.OTHER,
)
CATEGORIES: dict[str, Category] = {
    "supervision": Category(
        "supervision",
        "监理单位",
        frozenset({UnitRole.SUPERVISOR}),
        (
            Post.CHIEF_SUPERVISOR,
            Post.DEPUTY_CHIEF_SUPERVISOR,
            Post.SUPERVISOR_ENGINEER,
            Post.SAFETY_OFFICER,
            Post.OTHER,
        ),
    ),
    "gc": Category("gc", "总包单位", frozenset({UnitRole.GENERAL_CONTRACTOR}), _SITE_POSTS),
    "sub": Category(
        "sub", "分包单位", frozenset({UnitRole.SPECIALTY_SUB, UnitRole.LABOUR_SUB}), _SITE_POSTS
    ),
}
PM_POSTS = {Post.PROJECT_MANAGER, Post.DEPUTY_PROJECT_MANAGER}


def category_of(value: Any) -> Category:
    """The tab named by `value` (supervision, gc, sub)."""
    if value not in CATEGORIES:
        raise ValidationError(
            code=E.INVALID_CATEGORY.code,
            field="category",
        )
    return CATEGORIES[value]


def options() -> list[dict[str, Any]]:
    """The tabs and the posts each offers (for the 岗位 picker)."""
    return [
        {
            "category": c.key,
            "label": c.label,
            "posts": [{"code": p.value, "label": POST_LABELS[p]} for p in c.posts],
        }
        for c in CATEGORIES.values()
    ]


async def list_post_personnel(
    access: ProjectAccess, category: str, *, work_status: str = "", page: int = 1, size: int = 10
) -> tuple[list[dict[str, Any]], int]:
    """Post personnel of one tab (序号, 姓名, 性别, 身份证号, 手机号, 所属单位, 岗位, 工作状态)."""
    cat = category_of(category)
    qs = access.rows(
        ProjectMember.filter(
            project_id=access.project.id,
            person_type=PersonType.MANAGEMENT,
            unit__role__in=list(cat.roles),
        )
    )
    if work_status:
        if work_status not in (WorkStatus.ACTIVE, WorkStatus.LEFT):
            raise ValidationError("工作状态应为 active 或 left", field="work_status")
        qs = qs.filter(work_status=work_status)
    total = await qs.count()
    members = await labour.member_page(qs, page, size)
    full = labour.show_pii(access)
    return [
        {"seq": seq, **labour.member_public(m, full)} for seq, m in numbered(members, page, size)
    ], total


async def _unit_for(access: ProjectAccess, cat: Category, unit_id: int | None) -> ParticipatingUnit:
    """The unit a post person joins: the chosen subcontractor, or the project's unit of the role."""
    qs = ParticipatingUnit.filter(project_id=access.project.id, role__in=list(cat.roles))
    if unit_id is None:
        units = await qs.order_by("id")
        if cat.key == "sub" or len(units) > 1:  # 分包: the unit is always picked
            raise ValidationError(f"请选择{cat.label}", code=E.REQUIRED.code, field="unit_id")
        if not units:
            raise ValidationError(
                f"本项目没有{cat.label}", code=E.UNIT_NOT_ON_PROJECT.code, field="unit_id"
            )
        return units[0]
    unit = await qs.get_or_none(id=unit_id)
    if unit is None or not access.sees(unit.id):
        raise ValidationError(
            f"所选单位不是本项目的{cat.label}", code=E.UNIT_NOT_ON_PROJECT.code, field="unit_id"
        )
    return unit


def _post_of(cat: Category, value: Any) -> Post:
    if not value:
        raise ValidationError("请选择岗位", code=E.REQUIRED.code, field="post")
    try:
        post = Post(value)
    except ValueError as exc:
        raise ValidationError(code=E.INVALID_POST.code, field="post") from exc
    if post not in cat.posts:
        raise ValidationError(f"该岗位不适用于{cat.label}", code=E.INVALID_POST.code, field="post")
    return post


async def add_post_person(access: ProjectAccess, body: PostAdd) -> ProjectMember:
    """Add an enrolled person as post personnel of a unit (添加人员: ID search, unit, post)."""
    cat = category_of(body.category)
    post = _post_of(cat, body.post)
    unit = await _unit_for(access, cat, body.unit_id)
    access.check_manages(unit.id)
    person = await labour.find_enrolled_person(body.id_number)
    today = localtime.project_today(access.project)
    entry = body.entry_date or today
    if entry > today:
        raise ValidationError("进场日期不能晚于今天", code=E.INVALID_DATE.code, field="entry_date")
    existing = await ProjectMember.get_or_none(project_id=access.project.id, person_id=person.id)
    if existing is not None and existing.work_status == WorkStatus.ACTIVE:
        if existing.person_type == PersonType.LABOUR:
            raise Conflict(
                "该人员是本项目在职劳务人员，请先办理离职后再登记为岗位人员",
                code=E.ALREADY_MEMBER.code,
                field="id_number",
            )
        raise Conflict(code=E.ALREADY_MEMBER.code, field="id_number")
    values: dict[str, Any] = {
        "unit_id": unit.id,
        "team_id": None,
        "person_type": PersonType.MANAGEMENT,
        "post": post.value,
        "work_type": "",
        "work_status": WorkStatus.ACTIVE,
        "entry_date": entry,
        "exit_date": None,
    }
    async with in_transaction():
        if existing is not None:
            await ProjectMember.filter(id=existing.id).update(**values)
            member_id = existing.id
        else:
            member_id = (
                await ProjectMember.create(
                    project_id=access.project.id, person_id=person.id, **values
                )
            ).id
        await sync.mark_members_changed([member_id])
    return await labour.load_member(member_id)


async def _post_member(access: ProjectAccess, member_id: int) -> ProjectMember:
    member = await labour.get_member(access, member_id)
    if member.person_type != PersonType.MANAGEMENT:
        raise NotFound("岗位人员不存在", code=E.MEMBER_NOT_FOUND.code)
    return member


async def change_post(access: ProjectAccess, member_id: int, body: PostChange) -> ProjectMember:
    """Change a post person's post (within the posts of their unit's tab)."""
    member = await _post_member(access, member_id)
    access.check_manages(member.unit_id)
    if member.work_status != WorkStatus.ACTIVE:
        raise Conflict("该人员已离职，不能编辑", code=E.MEMBER_LEFT.code)
    role = member.unit.role
    cat = next((c for c in CATEGORIES.values() if role in c.roles), CATEGORIES["sub"])
    post = _post_of(cat, body.post)
    await ProjectMember.filter(id=member.id).update(post=post.value)
    return await labour.load_member(member.id)


async def exit_post_person(access: ProjectAccess, member_id: int, body: PostExit) -> ProjectMember:
    """A post person leaves the project (离职); they lose their standing on it."""
    await _post_member(access, member_id)
    return await labour.exit_member(access, member_id, body)


# --- duty records --------------------------------------------------------------------------------


class _DutyRule(TypedDict):
    """How one duty kind is registered: labels, who may host, whether a file is required."""

    date: str
    host: str
    file: str | None
    host_roles: set[UnitRole]
    host_posts: set[Post] | None
    host_error: str


_DUTY_RULES: dict[DutyKind, _DutyRule] = {
    DutyKind.SUPERVISION_MEETING: {
        "date": "会议日期",
        "host": "主持人",
        "file": "监理例会签到表",
        "host_roles": {UnitRole.SUPERVISOR},
        "host_posts": None,
        "host_error": "主持人须为本项目在职的监理人员",
    },
    DutyKind.PM_DUTY: {
        "date": "履职日期",
        "host": "项目负责人",
        "file": None,
        "host_roles": {UnitRole.GENERAL_CONTRACTOR},
        "host_posts": PM_POSTS,
        "host_error": "项目负责人须为本项目在职的总包项目经理或项目副经理",
    },
}


def duty_kind_of(value: Any) -> DutyKind:
    """The duty kind (supervision_meeting, pm_duty)."""
    try:
        return DutyKind(value)
    except ValueError as exc:
        raise ValidationError(
            "履职类型应为监理履职或项目负责人履职", code=E.INVALID_KIND.code, field="kind"
        ) from exc


async def register_duty(
    access: ProjectAccess,
    body: DutyCreate,
    upload: tuple[bytes, str] | None,
    store: FileStore,
    max_bytes: int,
) -> DutyRecord:
    """登记: record a supervision meeting (with its sign-in sheet) or a PM duty record."""
    kind = duty_kind_of(body.kind)
    rule = _DUTY_RULES[kind]
    duty_date: dt.date = require(body.duty_date, "duty_date", rule["date"])
    if duty_date > localtime.project_today(access.project):
        raise ValidationError(
            f"{rule['date']}不能晚于今天", code=E.INVALID_DATE.code, field="duty_date"
        )
    host_id = body.host_member_id
    if host_id is None:
        raise ValidationError(f"请选择{rule['host']}", code=E.REQUIRED.code, field="host_member_id")
    host = await ProjectMember.get_or_none(
        id=host_id,
        project_id=access.project.id,
        person_type=PersonType.MANAGEMENT,
        work_status=WorkStatus.ACTIVE,
        unit__role__in=list(rule["host_roles"]),
    )
    if host is None or (rule["host_posts"] and host.post not in rule["host_posts"]):
        raise ValidationError(rule["host_error"], code=E.INVALID_HOST.code, field="host_member_id")
    content = body.content
    if kind == DutyKind.PM_DUTY and not content:
        raise ValidationError("请填写履职内容", code=E.REQUIRED.code, field="content")
    if rule["file"] and upload is None:
        raise ValidationError(f"请上传{rule['file']}", code=E.REQUIRED.code, field="file")
    if upload is not None:
        check_upload(upload[0], upload[1], DOCUMENTS, max_bytes, "file")
    access.check_manages(host.unit_id)
    async with in_transaction():
        stored = None
        if upload is not None:
            stored = await save_project_upload(
                access, store, upload[0], upload[1], purpose="duty", max_bytes=max_bytes
            )
        record = await DutyRecord.create(
            project_id=access.project.id,
            kind=kind,
            duty_date=duty_date,
            host_id=host.id,
            content=content,
            file=stored,
            registered_by=access.principal.actor,
            registered_by_name=access.principal.display_name[:128],
        )
    return await DutyRecord.get(id=record.id).prefetch_related("host__person", "file")


def duty_public(r: DutyRecord, seq: int | None = None) -> dict[str, Any]:
    """A duty-record row: 序号, 日期, 主持人/项目负责人, 内容, 签到表/附件, 登记人, 登记时间."""
    kind = DutyKind(r.kind)
    host = r.host
    stored = r.file
    return {
        "seq": seq,
        "id": r.id,
        "kind": kind.value,
        "kind_label": DUTY_KIND_LABELS[kind],
        "duty_date": r.duty_date,
        "host_member_id": host.id,
        "host_name": host.person.name,
        "host_post": host.post,
        "content": r.content,
        "file": {"id": stored.id, "name": stored.name} if stored is not None else None,
        "registered_by": r.registered_by_name or r.registered_by,
        "registered_at": r.created_at,
    }


async def list_duty(
    access: ProjectAccess, kind: str, *, page: int = 1, size: int = 10
) -> tuple[list[dict[str, Any]], int]:
    """The project's duty records of one kind, newest first."""
    qs = DutyRecord.filter(project_id=access.project.id, kind=duty_kind_of(kind))
    total = await qs.count()
    rows = await paged(qs, page, size, "-duty_date", "-id").prefetch_related("host__person", "file")
    return [duty_public(r, seq) for seq, r in numbered(rows, page, size)], total


async def host_choices(access: ProjectAccess, kind: str) -> list[dict[str, Any]]:
    """Who can be picked as 主持人 / 项目负责人 for a duty record."""
    rule = _DUTY_RULES[duty_kind_of(kind)]
    qs = ProjectMember.filter(
        project_id=access.project.id,
        person_type=PersonType.MANAGEMENT,
        work_status=WorkStatus.ACTIVE,
        unit__role__in=list(rule["host_roles"]),
    )
    if rule["host_posts"]:
        qs = qs.filter(post__in=list(rule["host_posts"]))
    members = await qs.order_by("id").prefetch_related("person")
    return [
        {
            "member_id": m.id,
            "name": m.person.name,
            "post": m.post,
            "post_label": labour.post_label(m.post),
        }
        for m in members
    ]

"""Labour management (劳务工管理): teams (班组), labour members, wage cards and exits.

Rules enforced here: rule 5 (a labour member is added only with work type and a complete wage card;
migrated members are completed through `update_member`), rule 6 (only persons enrolled by a
collection machine can be added), and unit scoping: a subcontractor sees and manages only its own
units' teams and people, the general contractor manages the whole site, the builder and the
supervisor see the whole site but manage only their own units.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel
from tortoise.transactions import in_transaction

from models import (
    KeyPersonnel,
    ParticipatingUnit,
    Person,
    PersonType,
    Post,
    Project,
    ProjectMember,
    Team,
    UnitRole,
    WorkStatus,
)
from models.contracts import LabourContract
from models.files import StoredFile
from models.org import UNIT_ROLE_LABELS
from models.people import PERSON_TYPE_LABELS, POST_LABELS, WORK_STATUS_LABELS
from realname.errors import Conflict, Forbidden, NotFound, ValidationError, require
from services import localtime, pii, sync
from services.identity import VIEW_PII, ProjectAccess

# 工种: the trades offered when adding a labour member (and accepted by the import template).
WORK_TYPES: tuple[str, ...] = (
    "普工",
    "钢筋工",
    "木工",
    "架子工",
    "砌筑工",
    "混凝土工",
    "抹灰工",
    "油漆工",
    "防水工",
    "电工",
    "焊工",
    "水暖工",
    "管道工",
    "通风工",
    "起重工",
    "信号工",
    "塔吊司机",
    "司索工",
    "机械操作工",
    "测量工",
    "试验工",
    "装饰装修工",
    "幕墙安装工",
    "石工",
    "模板工",
    "钳工",
    "安装工",
    "保温工",
    "爆破工",
    "其他",
    # the national code table's trades (住建部 建筑工人工种, codes in services.enrolment), so a
    # member enrolled by a collection machine with one of them stays editable here
    "机械设备安装工",
    "安装起重工",
    "安装钳工",
    "电气设备安装调试工",
    "变电安装工",
    "建筑电工",
    "司泵工",
    "挖掘铲运和桩工机械司机",
    "桩机操作工",
    "起重信号工",
    "建筑起重机械安装拆卸工",
    "室内成套设施安装工",
    "建筑门窗幕墙安装工",
    "幕墙制作工",
    "电焊工",
    "除尘工",
    "测量放线工",
    "线路架设工",
    "古建筑传统石工",
    "古建筑传统瓦工",
    "古建筑传统彩画工",
    "古建筑传统木工",
    "古建筑传统油工",
    "金属工",
    "管工",
    "管理人员",
)
CONSTRUCTION_ROLES = {UnitRole.GENERAL_CONTRACTOR, UnitRole.SPECIALTY_SUB, UnitRole.LABOUR_SUB}
SITE_WIDE_VIEW_ROLES = {UnitRole.GENERAL_CONTRACTOR, UnitRole.BUILDER, UnitRole.SUPERVISOR}
ENROL_FIRST = "请先使用采集设备完成实名制采集"
_BRANCH_CODE_RE = re.compile(r"^\d{12}$")


def project_today(project: Project) -> dt.date:
    """Today's date in the project's time zone (warnings and exits are dated locally)."""
    return localtime.today(localtime.project_zone(project))


# --- scoping -------------------------------------------------------------------------------------


@dataclass
class UnitScope:
    """Which participating units the caller may see and manage (None: all units of the project)."""

    visible: set[int] | None
    managed: set[int] | None
    can_manage: bool

    def sees(self, unit_id: int) -> bool:
        """Whether records of this unit are visible to the caller."""
        return self.visible is None or unit_id in self.visible

    def check_visible(self, unit_id: int, what: str = "记录") -> None:
        """Raise NotFound for a record of a unit the caller cannot see (no probing)."""
        if not self.sees(unit_id):
            raise NotFound(f"{what}不存在", code="not_found")

    def check_manages(self, unit_id: int) -> None:
        """Raise Forbidden unless the caller may change records of this unit."""
        if not self.can_manage or (self.managed is not None and unit_id not in self.managed):
            raise Forbidden("您只能管理本单位的班组和人员", code="unit_forbidden")


async def caller_unit_roles(access: ProjectAccess) -> set[str]:
    """The responsibility roles the caller holds on the project (through units or the permit)."""
    roles = set(access.unit_roles)
    if access.unit_ids:
        roles |= {
            str(r)
            for r in await ParticipatingUnit.filter(id__in=list(access.unit_ids)).values_list(
                "role", flat=True
            )
        }
    if access.principal.kind == "person" and access.principal.person_id:
        person = await Person.get_or_none(id=access.principal.person_id)
        if person is not None:
            named = await KeyPersonnel.filter(
                project_id=access.project.id, id_number_bidx=person.id_number_bidx, ended_at=None
            )
            for kp in named:
                roles.add(
                    UnitRole.SUPERVISOR
                    if kp.role == Post.CHIEF_SUPERVISOR
                    else UnitRole.GENERAL_CONTRACTOR
                )
    return roles


async def unit_scope(access: ProjectAccess) -> UnitScope:
    """The caller's unit scope on the project (see the module docstring)."""
    can_manage = access.can("manage")
    if access.principal.kind in ("operator", "regulator"):
        return UnitScope(None, None, can_manage)
    roles = await caller_unit_roles(access)
    own = set(access.unit_ids)
    if access.principal.kind == "person" and roles & {
        UnitRole.GENERAL_CONTRACTOR,
        UnitRole.SUPERVISOR,
    }:
        # Permit-named PM / chief supervisor: their own units are the project's units of that role.
        wanted = [r for r in (UnitRole.GENERAL_CONTRACTOR, UnitRole.SUPERVISOR) if r in roles]
        own |= set(
            cast(
                list[int],
                await ParticipatingUnit.filter(
                    project_id=access.project.id, role__in=wanted
                ).values_list("id", flat=True),
            )
        )
    visible = None if roles & SITE_WIDE_VIEW_ROLES else own
    managed = None if UnitRole.GENERAL_CONTRACTOR in roles else own
    return UnitScope(visible, managed, can_manage)


def show_pii(access: ProjectAccess) -> bool:
    """Whether replies may carry full ID numbers, phones and bank cards."""
    return access.can(VIEW_PII)


# --- shaping -------------------------------------------------------------------------------------


def person_fields(person: Person, full: bool) -> dict[str, Any]:
    """Name, gender and (masked unless `full`) ID number and phone of a person."""
    c = pii.cipher()
    return {
        "person_id": person.id,
        "name": person.name,
        "gender": person.gender,
        "id_number": c.decrypt(person.id_number_enc) if full else person.id_number_masked,
        "phone": (c.decrypt(person.phone_enc) or "") if full else person.phone_masked,
        "has_face": bool(person.face_key),
        "enrolled": person.enrolled_at is not None,
    }


def wage_card_incomplete(member: ProjectMember) -> list[str]:
    """Which wage-card / work-type fields a labour member still lacks (rule 5)."""
    if member.person_type != PersonType.LABOUR:
        return []
    missing = []
    if not member.work_type:
        missing.append("work_type")
    if not member.bank_name:
        missing.append("bank_name")
    if not member.bank_card_enc:
        missing.append("bank_card")
    if not member.bank_branch_code:
        missing.append("bank_branch_code")
    return missing


def member_public(
    member: ProjectMember, full: bool, contract: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The reply shape of a project member (person, team, unit, wage card, contract state)."""
    person: Person = member.person  # type: ignore[assignment]
    unit = member.unit  # type: ignore[attr-defined]
    team = member.team  # type: ignore[attr-defined]
    ptype = PersonType(member.person_type)
    status = WorkStatus(member.work_status)
    data = {
        "id": member.id,
        **person_fields(person, full),
        "person_type": ptype.value,
        "person_type_label": PERSON_TYPE_LABELS[ptype],
        "unit_id": member.unit_id,  # type: ignore[attr-defined]
        "unit_name": unit.enterprise.name,
        "team_id": member.team_id,  # type: ignore[attr-defined]
        "team_name": team.name if team is not None else "",
        "work_type": member.work_type,
        "post": member.post,
        "post_label": post_label(member.post),
        "work_status": status.value,
        "work_status_label": WORK_STATUS_LABELS[status],
        "entry_date": member.entry_date,
        "exit_date": member.exit_date,
        "bank_name": member.bank_name,
        "bank_card": (pii.cipher().decrypt(member.bank_card_enc) or "")
        if full
        else member.bank_card_masked,
        "bank_branch_code": member.bank_branch_code,
        "migrated": member.migrated,
        "incomplete_fields": wage_card_incomplete(member),
    }
    if contract is not None:
        data.update(contract)
    return data


def post_label(post: str) -> str:
    """The Chinese label of a post code (unknown codes as they are)."""
    try:
        return POST_LABELS[Post(post)]
    except ValueError:
        return post


def unit_public(unit: ParticipatingUnit) -> dict[str, Any]:
    """A short view of a participating unit (for pickers and team rows)."""
    role = UnitRole(unit.role)
    return {
        "id": unit.id,
        "name": unit.enterprise.name,  # type: ignore[attr-defined]
        "role": role.value,
        "role_label": UNIT_ROLE_LABELS[role],
        "on_site": unit.on_site,
    }


# --- persons (ID-number search, rule 6) ----------------------------------------------------------


async def find_enrolled_person(id_number: Any, field: str = "id_number") -> Person:
    """The person with this exact ID number, who must have been enrolled (rule 6)."""
    number = pii.validate_id_number(id_number, field=field)
    person = await Person.get_or_none(id_number_bidx=pii.cipher().blind_index("id", number))
    if person is None:
        raise NotFound(
            f"未找到该身份证号的人员，{ENROL_FIRST}", code="person_not_enrolled", field=field
        )
    if person.enrolled_at is None:
        raise ValidationError(
            f"该人员尚未完成实名制采集，{ENROL_FIRST}", code="person_not_enrolled", field=field
        )
    return person


async def search_person(access: ProjectAccess, id_number: Any) -> dict[str, Any]:
    """Find an enrolled person by exact ID number, with their standing on this project."""
    person = await find_enrolled_person(id_number)
    member = await ProjectMember.get_or_none(project_id=access.project.id, person_id=person.id)
    # Rule 11: before the person is on this project the caller sees the name and masked data only.
    data = person_fields(person, show_pii(access) and member is not None)
    data["membership"] = None
    if member is not None:
        status = WorkStatus(member.work_status)
        data["membership"] = {
            "member_id": member.id,
            "person_type": str(member.person_type),
            "work_status": status.value,
            "work_status_label": WORK_STATUS_LABELS[status],
        }
    return data


def fields_of(data: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """The sent fields of a request model (``services.schemas``), or a dict as it is."""
    if isinstance(data, BaseModel):
        return data.model_dump(exclude_unset=True)
    return data


# --- teams ---------------------------------------------------------------------------------------


async def _team(access: ProjectAccess, scope: UnitScope, team_id: int) -> Team:
    team = await Team.get_or_none(id=team_id, project_id=access.project.id, deleted_at=None)
    if team is None:
        raise NotFound("班组不存在", code="team_not_found")
    scope.check_visible(team.unit_id, "班组")  # type: ignore[attr-defined]
    return team


async def get_team(access: ProjectAccess, team_id: int) -> Team:
    """A visible, not deleted team of the project, or NotFound."""
    return await _team(access, await unit_scope(access), team_id)


async def active_counts(team_ids: list[int]) -> dict[int, int]:
    """Active members per team."""
    counts: dict[int, int] = {}
    if team_ids:
        tids = cast(
            list[int],
            await ProjectMember.filter(
                team_id__in=team_ids, work_status=WorkStatus.ACTIVE
            ).values_list("team_id", flat=True),
        )
        for tid in tids:
            counts[tid] = counts.get(tid, 0) + 1
    return counts


def team_public(team: Team, seq: int | None = None, active: int = 0) -> dict[str, Any]:
    """A team row: 序号, 班组名称, 班组状态, 班组长, 所属单位."""
    unit = team.unit  # type: ignore[attr-defined]
    return {
        "seq": seq,
        "id": team.id,
        "name": team.name,
        "on_site": team.on_site,
        "status_label": "在场" if team.on_site else "退场",
        "leader": team.leader,
        "unit_id": team.unit_id,  # type: ignore[attr-defined]
        "unit_name": unit.enterprise.name,
        "active_members": active,
    }


async def list_teams(
    access: ProjectAccess,
    *,
    name: str = "",
    on_site: bool | None = None,
    page: int = 1,
    size: int = 10,
) -> tuple[list[dict[str, Any]], int]:
    """The project's teams visible to the caller, with their 序号."""
    scope = await unit_scope(access)
    qs = Team.filter(project_id=access.project.id, deleted_at=None)
    if scope.visible is not None:
        qs = qs.filter(unit_id__in=list(scope.visible))
    if name:
        qs = qs.filter(name__icontains=name)
    if on_site is not None:
        qs = qs.filter(on_site=on_site)
    total = await qs.count()
    teams = (
        await qs.order_by("id")
        .offset((page - 1) * size)
        .limit(size)
        .prefetch_related("unit__enterprise")
    )
    counts = await active_counts([t.id for t in teams])
    first = (page - 1) * size
    rows = [team_public(t, first + i + 1, counts.get(t.id, 0)) for i, t in enumerate(teams)]
    return rows, total


async def _team_unit(access: ProjectAccess, scope: UnitScope, unit_id: Any) -> ParticipatingUnit:
    """The unit of a team: a construction unit of this project in the caller's scope."""
    try:
        uid = int(require(unit_id, "unit_id", "所属单位"))
    except (TypeError, ValueError) as exc:
        raise ValidationError("所属单位无效", field="unit_id") from exc
    unit = await ParticipatingUnit.get_or_none(id=uid, project_id=access.project.id)
    if unit is None or not scope.sees(unit.id):
        raise ValidationError(
            "所属单位不是本项目的参建单位", code="unit_not_on_project", field="unit_id"
        )
    if UnitRole(unit.role) not in CONSTRUCTION_ROLES:
        raise ValidationError(
            "班组只能属于施工总承包单位或分包单位", code="unit_role_invalid", field="unit_id"
        )
    scope.check_manages(unit.id)
    return unit


def _team_name(value: Any) -> str:
    name = require(value, "name", "班组名称")
    if not isinstance(name, str) or len(name) > 64:
        raise ValidationError("班组名称不能超过64个字", field="name")
    return name


def _leader(value: Any) -> str:
    leader = (value or "").strip() if isinstance(value, str) or value is None else None
    if leader is None or len(leader) > 64:
        raise ValidationError("班组长姓名不能超过64个字", field="leader")
    return leader


def _on_site(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("在场", "on_site", "true", "1", 1):
        return True
    if value in ("退场", "off_site", "false", "0", 0):
        return False
    raise ValidationError("班组状态应为在场或退场", field="on_site")


async def _name_taken(project_id: int, name: str, exclude: int | None = None) -> bool:
    qs = Team.filter(project_id=project_id, name=name, deleted_at=None)
    if exclude:
        qs = qs.exclude(id=exclude)
    return await qs.exists()


async def create_team(access: ProjectAccess, data: BaseModel | dict[str, Any]) -> Team:
    """Create a team (新增班组) under a construction unit of the project."""
    data = fields_of(data)
    scope = await unit_scope(access)
    name = _team_name(data.get("name"))
    leader = _leader(data.get("leader"))
    on_site = _on_site(data.get("on_site", True))
    unit = await _team_unit(access, scope, data.get("unit_id"))
    if await _name_taken(access.project.id, name):
        raise Conflict("本项目已有同名班组", code="team_name_taken", field="name")
    team = await Team.create(
        project_id=access.project.id, unit=unit, name=name, leader=leader, on_site=on_site
    )
    await team.fetch_related("unit__enterprise")
    return team


async def update_team(
    access: ProjectAccess, team_id: int, data: BaseModel | dict[str, Any]
) -> Team:
    """Edit a team: name, leader, unit, status (在场/退场)."""
    data = fields_of(data)
    scope = await unit_scope(access)
    team = await _team(access, scope, team_id)
    scope.check_manages(team.unit_id)  # type: ignore[attr-defined]
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _team_name(data["name"])
        if await _name_taken(access.project.id, changes["name"], exclude=team.id):
            raise Conflict("本项目已有同名班组", code="team_name_taken", field="name")
    if "leader" in data:
        changes["leader"] = _leader(data["leader"])
    if "on_site" in data:
        changes["on_site"] = _on_site(data["on_site"])
    new_unit = None
    if "unit_id" in data and data["unit_id"] != team.unit_id:  # type: ignore[attr-defined]
        new_unit = await _team_unit(access, scope, data["unit_id"])
    active = (await active_counts([team.id])).get(team.id, 0)
    if active and new_unit is not None and new_unit.id != team.unit_id:  # type: ignore[attr-defined]
        raise Conflict(
            f"班组内还有 {active} 名在职人员，不能变更所属单位",
            code="team_has_members",
            field="unit_id",
        )
    if active and changes.get("on_site") is False:
        raise Conflict(
            f"班组内还有 {active} 名在职人员，请先为其办理离职后再将班组退场",
            code="team_has_members",
            field="on_site",
        )
    if new_unit is not None:
        changes["unit_id"] = new_unit.id
    if changes:
        await Team.filter(id=team.id).update(**changes)
    team = await Team.get(id=team.id).prefetch_related("unit__enterprise")
    return team


async def delete_team(access: ProjectAccess, team_id: int) -> None:
    """Delete a team (kept for the record, hidden); refused while it has active members."""
    scope = await unit_scope(access)
    team = await _team(access, scope, team_id)
    scope.check_manages(team.unit_id)  # type: ignore[attr-defined]
    active = (await active_counts([team.id])).get(team.id, 0)
    if active:
        raise Conflict(
            f"班组内还有 {active} 名在职人员，请先为其办理离职后再删除班组", code="team_has_members"
        )
    await Team.filter(id=team.id).update(deleted_at=dt.datetime.now(dt.UTC), on_site=False)


# --- members -------------------------------------------------------------------------------------


@dataclass
class WageCard:
    """A validated wage card and work type (rule 5)."""

    work_type: str
    bank_name: str
    bank_card: str
    bank_branch_code: str


def validate_work_type(value: Any, field: str = "work_type") -> str:
    """A work type (工种) from the list."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("请选择工种", code="required", field=field)
    work_type = value.strip()
    if work_type not in WORK_TYPES:
        raise ValidationError(
            "工种不在可选范围内，请从列表中选择", code="invalid_work_type", field=field
        )
    return work_type


def validate_bank_name(value: Any, field: str = "bank_name") -> str:
    """The wage-card bank (工资卡银行)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("请填写工资卡银行", code="required", field=field)
    if len(value.strip()) > 64:
        raise ValidationError("工资卡银行名称不能超过64个字", field=field)
    return value.strip()


def validate_branch_code(value: Any, field: str = "bank_branch_code") -> str:
    """The bank branch code (联行号): 12 digits."""
    code = str(value).strip() if value is not None else ""
    if not code:
        raise ValidationError("请填写联行号", code="required", field=field)
    if not _BRANCH_CODE_RE.match(code):
        raise ValidationError("联行号应为12位数字", code="invalid_branch_code", field=field)
    return code


def validate_wage_card(data: dict[str, Any]) -> WageCard:
    """Work type and the complete wage card, all required (rule 5)."""
    work_type = validate_work_type(data.get("work_type"))
    bank_name = validate_bank_name(data.get("bank_name"))
    card = pii.validate_bank_card(str(data.get("bank_card") or ""), field="bank_card")
    branch = validate_branch_code(data.get("bank_branch_code"))
    return WageCard(work_type, bank_name, card, branch)


DATE_MIN, DATE_MAX = dt.date(1970, 1, 1), dt.date(2099, 12, 31)  # dates a project can refer to


def parse_date(value: Any, field: str, label: str, required: bool = True) -> dt.date | None:
    """A date from ``YYYY-MM-DD`` (or a date/datetime object), or a ValidationError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"请填写{label}", code="required", field=field)
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError as exc:
            raise ValidationError(
                f"{label}格式错误，应为 YYYY-MM-DD", code="invalid_date", field=field
            ) from exc
    if not DATE_MIN <= day <= DATE_MAX:  # years 0001 / 9999 would overflow time-zone arithmetic
        raise ValidationError(
            f"{label}超出范围（{DATE_MIN.year}–{DATE_MAX.year}年）",
            code="invalid_date",
            field=field,
        )
    return day


def _card_columns(card: WageCard) -> dict[str, Any]:
    return {
        "work_type": card.work_type,
        "bank_name": card.bank_name,
        "bank_card_enc": pii.cipher().encrypt(card.bank_card),
        "bank_card_masked": pii.mask_bank_card(card.bank_card),
        "bank_branch_code": card.bank_branch_code,
    }


async def _member(access: ProjectAccess, scope: UnitScope, member_id: int) -> ProjectMember:
    member = await ProjectMember.get_or_none(id=member_id, project_id=access.project.id)
    if member is None:
        raise NotFound("人员不存在", code="member_not_found")
    scope.check_visible(member.unit_id, "人员")  # type: ignore[attr-defined]
    return member


async def load_member(member_id: int) -> ProjectMember:
    """A member with person, unit (and enterprise) and team loaded for shaping."""
    return await ProjectMember.get(id=member_id).prefetch_related(
        "person", "unit__enterprise", "team"
    )


async def get_member(access: ProjectAccess, member_id: int) -> ProjectMember:
    """A member of the project visible to the caller, loaded for shaping."""
    member = await _member(access, await unit_scope(access), member_id)
    return await load_member(member.id)


def _existing_conflict(member: ProjectMember) -> None:
    """Refuse adding a person who is already active on the project."""
    if member.work_status != WorkStatus.ACTIVE:
        return
    if member.person_type == PersonType.MANAGEMENT:
        raise Conflict("该人员已是本项目在职岗位人员", code="already_member", field="id_number")
    raise Conflict(
        "该人员已在本项目在职，如需调整班组请编辑人员信息", code="already_member", field="id_number"
    )


async def check_addable(project_id: int, person: Person) -> ProjectMember | None:
    """The person's former (left) membership to re-activate, or None; refuses an active one."""
    existing = await ProjectMember.get_or_none(project_id=project_id, person_id=person.id)
    if existing is not None:
        _existing_conflict(existing)
    return existing


async def add_team_member(
    access: ProjectAccess,
    team_id: int,
    data: BaseModel | dict[str, Any],
    *,
    today: dt.date | None = None,
) -> ProjectMember:
    """Add an enrolled person to a team with work type and wage card (rules 5, 6)."""
    data = fields_of(data)
    scope = await unit_scope(access)
    team = await _team(access, scope, team_id)
    scope.check_manages(team.unit_id)  # type: ignore[attr-defined]
    if not team.on_site:
        raise Conflict("班组已退场，不能添加人员", code="team_off_site")
    person = await find_enrolled_person(data.get("id_number"))
    card = validate_wage_card(data)
    today = today or project_today(access.project)
    entry = parse_date(data.get("entry_date"), "entry_date", "进场日期", required=False) or today
    if entry > today:
        raise ValidationError("进场日期不能晚于今天", code="invalid_date", field="entry_date")
    existing = await check_addable(access.project.id, person)
    member = await save_labour_member(access.project.id, team, person, card, entry, existing)
    return await load_member(member.id)


async def save_labour_member(
    project_id: int,
    team: Team,
    person: Person,
    card: WageCard,
    entry: dt.date,
    existing: ProjectMember | None,
) -> ProjectMember:
    """Create (or re-activate a former) labour membership and tell terminals."""
    values = {
        "unit_id": team.unit_id,  # type: ignore[attr-defined]
        "team_id": team.id,
        "person_type": PersonType.LABOUR,
        "post": "",
        "work_status": WorkStatus.ACTIVE,
        "entry_date": entry,
        "exit_date": None,
        **_card_columns(card),
    }
    if existing is not None:
        await ProjectMember.filter(id=existing.id).update(**values)
        member_id = existing.id
    else:
        member_id = (
            await ProjectMember.create(project_id=project_id, person_id=person.id, **values)
        ).id
    await sync.mark_members_changed([member_id])
    return await ProjectMember.get(id=member_id)


async def list_team_members(
    access: ProjectAccess, team_id: int, *, work_status: str = "", page: int = 1, size: int = 10
) -> tuple[list[ProjectMember], int]:
    """Members of a team (序号, 姓名, 性别, 身份证号, 手机号, 工种, 工作状态)."""
    scope = await unit_scope(access)
    team = await _team(access, scope, team_id)
    qs = ProjectMember.filter(project_id=access.project.id, team_id=team.id)
    if work_status:
        if work_status not in WorkStatus.__members__.values():
            raise ValidationError("工作状态应为 active 或 left", field="work_status")
        qs = qs.filter(work_status=work_status)
    total = await qs.count()
    rows = (
        await qs.order_by("id")
        .offset((page - 1) * size)
        .limit(size)
        .prefetch_related("person", "unit__enterprise", "team")
    )
    return list(rows), total


async def update_member(
    access: ProjectAccess, member_id: int, data: BaseModel | dict[str, Any]
) -> ProjectMember:
    """Edit a labour member: work type, wage card, team; completes migrated members (rule 5).

    A field left out keeps its value; the result must hold the complete wage card and work type.
    """
    data = fields_of(data)
    scope = await unit_scope(access)
    member = await _member(access, scope, member_id)
    scope.check_manages(member.unit_id)  # type: ignore[attr-defined]
    if member.person_type != PersonType.LABOUR:
        raise Conflict("岗位人员请在岗位人员管理中编辑", code="not_labour")
    if member.work_status != WorkStatus.ACTIVE:
        raise Conflict("该人员已离职，不能编辑", code="member_left")
    current_card = pii.cipher().decrypt(member.bank_card_enc) or ""
    merged = {
        "work_type": data.get("work_type", member.work_type),
        "bank_name": data.get("bank_name", member.bank_name),
        "bank_card": data.get("bank_card") or current_card,
        "bank_branch_code": data.get("bank_branch_code", member.bank_branch_code),
    }
    card = validate_wage_card(merged)
    values = _card_columns(card)
    if "team_id" in data and data["team_id"] != member.team_id:  # type: ignore[attr-defined]
        try:
            new_team = await _team(access, scope, int(data["team_id"]))
        except (TypeError, ValueError) as exc:
            raise ValidationError("班组无效", field="team_id") from exc
        scope.check_manages(new_team.unit_id)  # type: ignore[attr-defined]
        if not new_team.on_site:
            raise Conflict("目标班组已退场，不能调入人员", code="team_off_site", field="team_id")
        values.update(team_id=new_team.id, unit_id=new_team.unit_id)  # type: ignore[attr-defined]
    if "entry_date" in data:
        entry = parse_date(data["entry_date"], "entry_date", "进场日期")
        if entry and entry > project_today(access.project):
            raise ValidationError("进场日期不能晚于今天", code="invalid_date", field="entry_date")
        values["entry_date"] = entry
    await ProjectMember.filter(id=member.id).update(**values)
    await sync.mark_members_changed([member.id])
    return await load_member(member.id)


async def exit_member(
    access: ProjectAccess, member_id: int, data: BaseModel | dict[str, Any]
) -> ProjectMember:
    """A member leaves the project (离职) on an exit date; terminals drop them."""
    data = fields_of(data)
    scope = await unit_scope(access)
    member = await _member(access, scope, member_id)
    scope.check_manages(member.unit_id)  # type: ignore[attr-defined]
    if member.work_status != WorkStatus.ACTIVE:
        raise Conflict("该人员已离职", code="member_left")
    today = project_today(access.project)
    exit_date = parse_date(data.get("exit_date"), "exit_date", "离职日期", required=False) or today
    if exit_date < member.entry_date:
        raise ValidationError("离职日期不能早于进场日期", code="invalid_date", field="exit_date")
    if exit_date > today:
        raise ValidationError("离职日期不能晚于今天", code="invalid_date", field="exit_date")
    async with in_transaction():
        await ProjectMember.filter(id=member.id).update(
            work_status=WorkStatus.LEFT, exit_date=exit_date
        )
        await sync.mark_members_changed([member.id])
    return await load_member(member.id)


async def construction_units(access: ProjectAccess) -> list[dict[str, Any]]:
    """Units of the project the caller may put teams under (the 所属单位 picker)."""
    scope = await unit_scope(access)
    units = (
        await ParticipatingUnit.filter(
            project_id=access.project.id, role__in=list(CONSTRUCTION_ROLES)
        )
        .prefetch_related("enterprise")
        .order_by("id")
    )
    return [
        unit_public(u)
        for u in units
        if scope.sees(u.id) and (scope.managed is None or u.id in scope.managed)
    ]


# --- file downloads ------------------------------------------------------------------------------

SENSITIVE_FILE_PURPOSES = {"face", "faces", "id_photo"}  # biometric / ID images (PIPL)


async def file_for_download(access: ProjectAccess, file_id: int) -> StoredFile:
    """A stored file of this project the caller may read (else NotFound / Forbidden).

    Files belong to records: a contract attachment is readable by those who can see the member;
    face and ID photos only with VIEW_PII; other project files with VIEW on the project.
    """
    stored = await StoredFile.get_or_none(id=file_id, project_id=access.project.id)
    if stored is None:
        raise NotFound("文件不存在", code="file_not_found")
    if stored.purpose in SENSITIVE_FILE_PURPOSES and not show_pii(access):
        raise Forbidden("无权查看人员照片", code="file_forbidden")
    if stored.purpose == "contract":
        scope = await unit_scope(access)
        contract = (
            await LabourContract.filter(attachment_id=stored.id).prefetch_related("member").first()
        )
        if contract is not None:
            scope.check_visible(contract.member.unit_id, "文件")  # type: ignore[attr-defined]
    return stored

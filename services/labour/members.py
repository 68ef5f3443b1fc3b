"""Labour members: adding to a team (rules 5 and 6), listing, changing, exiting."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from models import Person, PersonType, ProjectMember, Team, WorkStatus
from realname import error_codes as E
from realname.errors import Conflict, NotFound, ValidationError, require
from services import localtime, pii, sync
from services.identity import ProjectAccess
from services.labour.persons import find_enrolled_person
from services.labour.shaping import member_page
from services.labour.teams import get_team
from services.labour.wagecard import WageCard, _card_columns, validate_wage_card
from services.schemas.labour import MemberAdd, MemberExit, MemberUpdate
from services.schemas.posts import PostExit


async def _member(access: ProjectAccess, member_id: int) -> ProjectMember:
    member = await ProjectMember.get_or_none(id=member_id, project_id=access.project.id)
    if member is None:
        raise NotFound("人员不存在", code=E.MEMBER_NOT_FOUND.code)
    access.check_visible(member.unit_id, "人员")
    return member


async def load_member(member_id: int) -> ProjectMember:
    """A member with person, unit (and enterprise) and team loaded for shaping."""
    return await ProjectMember.get(id=member_id).prefetch_related(
        "person", "unit__enterprise", "team"
    )


async def get_member(access: ProjectAccess, member_id: int) -> ProjectMember:
    """A member of the project visible to the caller, loaded for shaping."""
    member = await _member(access, member_id)
    return await load_member(member.id)


def _existing_conflict(member: ProjectMember) -> None:
    """Refuse adding a person who is already active on the project."""
    if member.work_status != WorkStatus.ACTIVE:
        return
    if member.person_type == PersonType.MANAGEMENT:
        raise Conflict(code=E.ALREADY_MEMBER.code, field="id_number")
    raise Conflict(
        "该人员已在本项目在职，如需调整班组请编辑人员信息",
        code=E.ALREADY_MEMBER.code,
        field="id_number",
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
    body: MemberAdd,
    *,
    today: dt.date | None = None,
) -> ProjectMember:
    """Add an enrolled person to a team with work type and wage card (rules 5, 6)."""
    team = await get_team(access, team_id)
    access.check_manages(team.unit_id)
    if not team.on_site:
        raise Conflict(code=E.TEAM_OFF_SITE.code)
    person = await find_enrolled_person(body.id_number)
    card = validate_wage_card(body.model_dump())
    today = today or localtime.project_today(access.project)
    entry = body.entry_date or today
    if entry > today:
        raise ValidationError("进场日期不能晚于今天", code=E.INVALID_DATE.code, field="entry_date")
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
        "unit_id": team.unit_id,
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
    team = await get_team(access, team_id)
    qs = ProjectMember.filter(project_id=access.project.id, team_id=team.id)
    if work_status:
        if work_status not in WorkStatus.__members__.values():
            raise ValidationError("工作状态应为 active 或 left", field="work_status")
        qs = qs.filter(work_status=work_status)
    total = await qs.count()
    return await member_page(qs, page, size), total


async def update_member(access: ProjectAccess, member_id: int, body: MemberUpdate) -> ProjectMember:
    """Edit a labour member: work type, wage card, team; completes migrated members (rule 5).

    A field left out keeps its value (one sent null is cleared, so the check below refuses it);
    the result must hold the complete wage card and work type.
    """
    sent = body.model_fields_set
    member = await _member(access, member_id)
    access.check_manages(member.unit_id)
    if member.person_type != PersonType.LABOUR:
        raise Conflict("岗位人员请在岗位人员管理中编辑", code=E.NOT_LABOUR.code)
    if member.work_status != WorkStatus.ACTIVE:
        raise Conflict("该人员已离职，不能编辑", code=E.MEMBER_LEFT.code)
    current_card = pii.cipher().decrypt(member.bank_card_enc) or ""
    merged = {
        key: getattr(body, key) if key in sent else getattr(member, key)
        for key in ("work_type", "bank_name", "bank_branch_code")
    }
    merged["bank_card"] = body.bank_card or current_card
    card = validate_wage_card(merged)
    values = _card_columns(card)
    if "team_id" in sent and body.team_id != member.team_id:
        if body.team_id is None:
            raise ValidationError("班组无效", field="team_id")
        new_team = await get_team(access, body.team_id)
        access.check_manages(new_team.unit_id)
        if not new_team.on_site:
            raise Conflict(
                "目标班组已退场，不能调入人员", code=E.TEAM_OFF_SITE.code, field="team_id"
            )
        values.update(team_id=new_team.id, unit_id=new_team.unit_id)
    if "entry_date" in sent:
        entry = require(body.entry_date, "entry_date", "进场日期")
        if entry > localtime.project_today(access.project):
            raise ValidationError(
                "进场日期不能晚于今天", code=E.INVALID_DATE.code, field="entry_date"
            )
        values["entry_date"] = entry
    await ProjectMember.filter(id=member.id).update(**values)
    await sync.mark_members_changed([member.id])
    return await load_member(member.id)


async def exit_member(
    access: ProjectAccess, member_id: int, body: MemberExit | PostExit
) -> ProjectMember:
    """A member leaves the project (离职) on an exit date (default today); terminals drop them."""
    member = await _member(access, member_id)
    access.check_manages(member.unit_id)
    if member.work_status != WorkStatus.ACTIVE:
        raise Conflict("该人员已离职", code=E.MEMBER_LEFT.code)
    today = localtime.project_today(access.project)
    exit_date = body.exit_date or today
    if exit_date < member.entry_date:
        raise ValidationError(
            "离职日期不能早于进场日期", code=E.INVALID_DATE.code, field="exit_date"
        )
    if exit_date > today:
        raise ValidationError("离职日期不能晚于今天", code=E.INVALID_DATE.code, field="exit_date")
    async with in_transaction():
        await ProjectMember.filter(id=member.id).update(
            work_status=WorkStatus.LEFT, exit_date=exit_date
        )
        await sync.mark_members_changed([member.id])
    return await load_member(member.id)

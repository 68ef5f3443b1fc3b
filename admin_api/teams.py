"""Teams (班组管理): list, create, edit, delete; members of a team; add a member by ID number."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from admin_api._forms import upload_of
from admin_api._members import member_changed
from models import Team
from realname import error_codes as E
from realname.contract import Access, Deleted, Page, endpoint
from realname.errors import ValidationError
from realname.web import audit_request, deleted, every, ok, page
from services import contracts, labour, localtime, team_import
from services.exports import XLSX_TYPE, content_disposition
from services.identity import MANAGE, VIEW, ProjectAccess
from services.schemas.labour import (
    MemberAdd,
    MemberPublic,
    TeamCreate,
    TeamImportResult,
    TeamMembersQuery,
    TeamPublic,
    TeamQuery,
    TeamUpdate,
    UnitBrief,
)

bp = Blueprint("admin_teams", url_prefix="/projects")


async def _changed(
    request: Request, access: ProjectAccess, action: str, team: Team, *, status: int = 200
) -> HTTPResponse:
    """A team created or edited: audited as `action`, answered with the team."""
    await audit_request(request, access, action, target=f"team:{team.id}")
    return ok(labour.team_public(team), status=status)


@bp.get("/<code:str>/teams")
@endpoint(summary="班组列表", access=Access.project(VIEW), response=Page[TeamPublic])
async def list_teams(request: Request, query: TeamQuery, access: ProjectAccess) -> HTTPResponse:
    """The project's teams (序号, 班组名称, 班组状态, 班组长, 所属单位)."""
    rows, total = await labour.list_teams(
        access, name=query.name, on_site=query.on_site, page=query.page, size=query.page_size
    )
    return page(rows, total)


@bp.get("/<code:str>/team-units")
@endpoint(summary="班组可选所属单位", access=Access.project(MANAGE), response=Page[UnitBrief])
async def team_units(request: Request, access: ProjectAccess) -> HTTPResponse:
    """The units a new team can belong to (所属单位 picker)."""
    return every(await labour.construction_units(access))


@bp.get("/<code:str>/work-types")
@endpoint(summary="工种列表", access=Access.project(VIEW), response=Page[str])
async def work_types(request: Request, access: ProjectAccess) -> HTTPResponse:
    """The work types (工种) to choose from."""
    return every(list(labour.WORK_TYPES))


@bp.post("/<code:str>/teams")
@endpoint(
    summary="新增班组",
    access=Access.project(MANAGE),
    form=True,
    response=TeamPublic,
    status=201,
    errors=(E.TEAM_NAME_TAKEN, E.UNIT_NOT_ON_PROJECT, E.UNIT_ROLE_INVALID),
)
async def create_team(request: Request, body: TeamCreate, access: ProjectAccess) -> HTTPResponse:
    """Create a team (新增班组)."""
    team = await labour.create_team(access, body)
    return await _changed(request, access, "team.create", team, status=201)


@bp.get("/<code:str>/teams/<team_id:int>")
@endpoint(
    summary="班组详情",
    access=Access.project(VIEW),
    response=TeamPublic,
    errors=(E.TEAM_NOT_FOUND,),
)
async def get_team(request: Request, team_id: int, access: ProjectAccess) -> HTTPResponse:
    """One team."""
    team = await labour.get_team(access, team_id)
    await team.fetch_related("unit__enterprise")
    counts = await labour.active_counts([team.id])
    return ok(labour.team_public(team, active=counts.get(team.id, 0)))


@bp.patch("/<code:str>/teams/<team_id:int>")
@endpoint(
    summary="编辑班组",
    access=Access.project(MANAGE),
    form=True,
    response=TeamPublic,
    errors=(E.TEAM_NOT_FOUND, E.TEAM_NAME_TAKEN, E.TEAM_HAS_MEMBERS, E.UNIT_NOT_ON_PROJECT),
)
async def update_team(
    request: Request, team_id: int, body: TeamUpdate, access: ProjectAccess
) -> HTTPResponse:
    """Edit a team (name, leader, unit, 在场/退场)."""
    team = await labour.update_team(access, team_id, body)
    return await _changed(request, access, "team.update", team)


@bp.delete("/<code:str>/teams/<team_id:int>")
@endpoint(
    summary="删除班组",
    access=Access.project(MANAGE),
    response=Deleted,
    errors=(E.TEAM_NOT_FOUND, E.TEAM_HAS_MEMBERS),
)
async def delete_team(request: Request, team_id: int, access: ProjectAccess) -> HTTPResponse:
    """Delete a team; refused while it has active members."""
    await labour.delete_team(access, team_id)
    return await deleted(request, access, "team.delete", f"team:{team_id}")


@bp.get("/<code:str>/teams/<team_id:int>/members")
@endpoint(
    summary="班组人员列表",
    access=Access.project(VIEW),
    response=Page[MemberPublic],
    errors=(E.TEAM_NOT_FOUND,),
)
async def team_members(
    request: Request, team_id: int, query: TeamMembersQuery, access: ProjectAccess
) -> HTTPResponse:
    """Members of a team with wage card and contract warning (序号, 姓名, 身份证号, 工种...)."""
    members, total = await labour.list_team_members(
        access, team_id, work_status=query.work_status, page=query.page, size=query.page_size
    )
    states = await contracts.contract_states(members, localtime.project_today(access.project))
    full = labour.show_pii(access)
    rows = [
        {"seq": query.offset + i + 1, **labour.member_public(m, full, states.get(m.id))}
        for i, m in enumerate(members)
    ]
    return page(rows, total)


@bp.post("/<code:str>/teams/<team_id:int>/members")
@endpoint(
    summary="班组添加人员",
    access=Access.project(MANAGE),
    form=True,
    response=MemberPublic,
    status=201,
    errors=(
        E.TEAM_NOT_FOUND,
        E.TEAM_OFF_SITE,
        E.PERSON_NOT_ENROLLED,
        E.INVALID_ID_NUMBER,
        E.INVALID_BANK_CARD,
        E.INVALID_WORK_TYPE,
        E.INVALID_DATE,
    ),
)
async def add_member(
    request: Request, team_id: int, body: MemberAdd, access: ProjectAccess
) -> HTTPResponse:
    """Add an enrolled person to the team with work type and wage card (添加人员)."""
    member = await labour.add_team_member(access, team_id, body)
    return await member_changed(request, access, "member.add", member, status=201)


@bp.get("/<code:str>/teams/import-template")
@endpoint(
    summary="下载班组人员导入模板",
    access=Access.project(MANAGE),
    response="binary",
    content_type=XLSX_TYPE,
)
async def import_template(request: Request, access: ProjectAccess) -> HTTPResponse:
    """The .xlsx template for importing a team's members."""
    return raw(
        team_import.template_bytes(),
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition(team_import.TEMPLATE_NAME)},
    )


@bp.post("/<code:str>/teams/<team_id:int>/import")
@endpoint(
    summary="导入班组人员",
    access=Access.project(MANAGE),
    files=("file",),
    response=TeamImportResult,
    errors=(E.TEAM_NOT_FOUND, E.INVALID_FILE_TYPE, E.INVALID_TEMPLATE, E.TOO_LARGE),
)
async def import_members(request: Request, team_id: int, access: ProjectAccess) -> HTTPResponse:
    """Import the filled template (multipart ``file``): row errors back, valid rows imported."""
    upload = upload_of(request, "file")
    if upload is None:
        raise ValidationError("请选择要导入的 .xlsx 文件", code=E.REQUIRED.code, field="file")
    result = await team_import.import_members(
        access, team_id, upload[0], upload[1], request.app.ctx.settings.max_upload_bytes
    )
    await audit_request(
        request,
        access,
        "team.import",
        target=f"team:{team_id}",
        detail={k: result[k] for k in ("total", "imported", "failed")},
    )
    return ok(result)

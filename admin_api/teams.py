"""Teams (班组管理): list, create, edit, delete; members of a team; add a member by ID number."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from admin_api._forms import fields_of, flag_arg, upload_of
from realname.errors import ValidationError
from realname.web import audit_project, ip_of, ok, page, paging, project_access
from services import audit, contracts, labour, team_import
from services.exports import XLSX_TYPE, content_disposition
from services.identity import MANAGE, VIEW

bp = Blueprint("admin_teams", url_prefix="/projects")


@bp.get("/<code:str>/teams")
async def list_teams(request: Request, code: str) -> HTTPResponse:
    """The project's teams (序号, 班组名称, 班组状态, 班组长, 所属单位)."""
    access = await project_access(request, code, VIEW)
    page_no, size = paging(request)
    rows, total = await labour.list_teams(
        access,
        name=request.args.get("name", ""),
        on_site=flag_arg(request, "on_site"),
        page=page_no,
        size=size,
    )
    return page(rows, total)


@bp.get("/<code:str>/team-units")
async def team_units(request: Request, code: str) -> HTTPResponse:
    """The units a new team can belong to (所属单位 picker)."""
    access = await project_access(request, code, MANAGE)
    rows = await labour.construction_units(access)
    return page(rows, len(rows))


@bp.get("/<code:str>/work-types")
async def work_types(request: Request, code: str) -> HTTPResponse:
    """The work types (工种) to choose from."""
    await project_access(request, code, VIEW)
    return page(list(labour.WORK_TYPES), len(labour.WORK_TYPES))


@bp.post("/<code:str>/teams")
async def create_team(request: Request, code: str) -> HTTPResponse:
    """Create a team (新增班组)."""
    access = await project_access(request, code, MANAGE)
    team = await labour.create_team(access, fields_of(request))
    await audit_project(
        request,
        access,
        "team.create",
        target=f"team:{team.id}",
    )
    return ok(labour.team_public(team), status=201)


@bp.get("/<code:str>/teams/<team_id:int>")
async def get_team(request: Request, code: str, team_id: int) -> HTTPResponse:
    """One team."""
    access = await project_access(request, code, VIEW)
    team = await labour.get_team(access, team_id)
    await team.fetch_related("unit__enterprise")
    counts = await labour.active_counts([team.id])
    return ok(labour.team_public(team, active=counts.get(team.id, 0)))


@bp.patch("/<code:str>/teams/<team_id:int>")
async def update_team(request: Request, code: str, team_id: int) -> HTTPResponse:
    """Edit a team (name, leader, unit, 在场/退场)."""
    access = await project_access(request, code, MANAGE)
    team = await labour.update_team(access, team_id, fields_of(request))
    await audit_project(
        request,
        access,
        "team.update",
        target=f"team:{team.id}",
    )
    return ok(labour.team_public(team))


@bp.delete("/<code:str>/teams/<team_id:int>")
async def delete_team(request: Request, code: str, team_id: int) -> HTTPResponse:
    """Delete a team; refused while it has active members."""
    access = await project_access(request, code, MANAGE)
    await labour.delete_team(access, team_id)
    await audit_project(
        request,
        access,
        "team.delete",
        target=f"team:{team_id}",
    )
    return ok({"deleted": True})


@bp.get("/<code:str>/teams/<team_id:int>/members")
async def team_members(request: Request, code: str, team_id: int) -> HTTPResponse:
    """Members of a team with wage card and contract warning (序号, 姓名, 身份证号, 工种...)."""
    access = await project_access(request, code, VIEW)
    page_no, size = paging(request)
    members, total = await labour.list_team_members(
        access, team_id, work_status=request.args.get("work_status", ""), page=page_no, size=size
    )
    states = await contracts.contract_states(members, labour.project_today(access.project))
    full = labour.show_pii(access)
    first = (page_no - 1) * size
    rows = [
        {"seq": first + i + 1, **labour.member_public(m, full, states.get(m.id))}
        for i, m in enumerate(members)
    ]
    return page(rows, total)


@bp.post("/<code:str>/teams/<team_id:int>/members")
async def add_member(request: Request, code: str, team_id: int) -> HTTPResponse:
    """Add an enrolled person to the team with work type and wage card (添加人员)."""
    access = await project_access(request, code, MANAGE)
    member = await labour.add_team_member(access, team_id, fields_of(request))
    await audit_project(
        request,
        access,
        "member.add",
        target=f"member:{member.id}",
    )
    states = await contracts.contract_states([member], labour.project_today(access.project))
    return ok(
        labour.member_public(member, labour.show_pii(access), states.get(member.id)), status=201
    )


@bp.get("/<code:str>/teams/import-template")
async def import_template(request: Request, code: str) -> HTTPResponse:
    """The .xlsx template for importing a team's members."""
    await project_access(request, code, MANAGE)
    return raw(
        team_import.template_bytes(),
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition(team_import.TEMPLATE_NAME)},
    )


@bp.post("/<code:str>/teams/<team_id:int>/import")
async def import_members(request: Request, code: str, team_id: int) -> HTTPResponse:
    """Import the filled template (multipart ``file``): row errors back, valid rows imported."""
    access = await project_access(request, code, MANAGE)
    upload = upload_of(request, "file")
    if upload is None:
        raise ValidationError("请选择要导入的 .xlsx 文件", code="required", field="file")
    result = await team_import.import_members(
        access, team_id, upload[0], upload[1], request.app.ctx.settings.max_upload_bytes
    )
    await audit.record(
        "team.import",
        principal=access.principal,
        project_id=access.project.id,
        target=f"team:{team_id}",
        ip=ip_of(request),
        detail={k: result[k] for k in ("total", "imported", "failed")},
    )
    return ok(result)

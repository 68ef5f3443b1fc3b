"""Project members (劳务人员): ID-number search, detail, edit / complete, exit (离职)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import fields_of
from realname.errors import ValidationError
from realname.web import audit_project, ok, project_access
from services import contracts, labour
from services.identity import MANAGE, VIEW

bp = Blueprint("admin_members", url_prefix="/projects")


@bp.post("/<code:str>/persons/search")
async def search_person(request: Request, code: str) -> HTTPResponse:
    """Find an enrolled person by exact ID number (POST so the number stays out of URLs/logs)."""
    access = await project_access(request, code, MANAGE)
    data = fields_of(request)
    if not data.get("id_number"):
        raise ValidationError("请输入身份证号", code="required", field="id_number")
    return ok(await labour.search_person(access, data.get("id_number")))


async def _reply(access, member) -> HTTPResponse:  # noqa: ANN001 - internal helper
    states = await contracts.contract_states([member], labour.project_today(access.project))
    return ok(labour.member_public(member, labour.show_pii(access), states.get(member.id)))


@bp.get("/<code:str>/members/<member_id:int>")
async def get_member(request: Request, code: str, member_id: int) -> HTTPResponse:
    """One member, with wage card (masked by role) and contract warning."""
    access = await project_access(request, code, VIEW)
    return await _reply(access, await labour.get_member(access, member_id))


@bp.patch("/<code:str>/members/<member_id:int>")
async def update_member(request: Request, code: str, member_id: int) -> HTTPResponse:
    """Edit a labour member / complete a migrated one (work type, wage card, team)."""
    access = await project_access(request, code, MANAGE)
    member = await labour.update_member(access, member_id, fields_of(request))
    await audit_project(
        request,
        access,
        "member.update",
        target=f"member:{member.id}",
    )
    return await _reply(access, member)


@bp.post("/<code:str>/members/<member_id:int>/exit")
async def exit_member(request: Request, code: str, member_id: int) -> HTTPResponse:
    """The member leaves the project (离职) on the exit date (default today)."""
    access = await project_access(request, code, MANAGE)
    member = await labour.exit_member(access, member_id, fields_of(request))
    await audit_project(
        request,
        access,
        "member.exit",
        target=f"member:{member.id}",
    )
    return await _reply(access, member)

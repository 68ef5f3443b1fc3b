"""Project members (劳务人员): ID-number search, detail, edit / complete, exit (离职)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._members import member_changed, member_reply
from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.web import ok
from services import labour
from services.identity import MANAGE, VIEW, ProjectAccess
from services.schemas.labour import (
    MemberExit,
    MemberPublic,
    MemberUpdate,
    PersonFound,
    PersonSearch,
)

bp = Blueprint("admin_members", url_prefix="/projects")


@bp.post("/<code:str>/persons/search")
@endpoint(
    summary="按身份证号查找人员",
    access=Access.project(MANAGE),
    form=True,
    response=PersonFound,
    errors=(E.PERSON_NOT_ENROLLED, E.INVALID_ID_NUMBER),
)
async def search_person(
    request: Request, body: PersonSearch, access: ProjectAccess
) -> HTTPResponse:
    """Find an enrolled person by exact ID number (POST so the number stays out of URLs/logs).

    Before the person is on this project the reply carries the name and masked data only.
    """
    return ok(await labour.search_person(access, body.id_number))


@bp.get("/<code:str>/members/<member_id:int>")
@endpoint(
    summary="人员详情",
    access=Access.project(VIEW),
    response=MemberPublic,
    errors=(E.MEMBER_NOT_FOUND,),
)
async def get_member(request: Request, member_id: int, access: ProjectAccess) -> HTTPResponse:
    """One member, with wage card (masked by role) and contract warning."""
    return await member_reply(access, await labour.get_member(access, member_id))


@bp.patch("/<code:str>/members/<member_id:int>")
@endpoint(
    summary="编辑人员（完善工资卡、工种、班组）",
    access=Access.project(MANAGE),
    form=True,
    response=MemberPublic,
    errors=(
        E.MEMBER_NOT_FOUND,
        E.NOT_LABOUR,
        E.MEMBER_LEFT,
        E.TEAM_NOT_FOUND,
        E.INVALID_BANK_CARD,
        E.INVALID_WORK_TYPE,
    ),
)
async def update_member(
    request: Request, member_id: int, body: MemberUpdate, access: ProjectAccess
) -> HTTPResponse:
    """Edit a labour member / complete a migrated one (work type, wage card, team)."""
    member = await labour.update_member(access, member_id, body)
    return await member_changed(request, access, "member.update", member)


@bp.post("/<code:str>/members/<member_id:int>/exit")
@endpoint(
    summary="人员离职",
    access=Access.project(MANAGE),
    form=True,
    response=MemberPublic,
    errors=(E.MEMBER_NOT_FOUND, E.MEMBER_LEFT, E.INVALID_DATE),
)
async def exit_member(
    request: Request, member_id: int, body: MemberExit, access: ProjectAccess
) -> HTTPResponse:
    """The member leaves the project (离职) on the exit date (default today)."""
    member = await labour.exit_member(access, member_id, body)
    return await member_changed(request, access, "member.exit", member)

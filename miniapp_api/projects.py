"""My projects, and the project summary screen of post personnel."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.contract import Access, Page, endpoint
from realname.web import every, ok
from services import personal
from services.identity import VIEW, Principal, ProjectAccess
from services.schemas.miniapp import MyProject, ProjectSummary

bp = Blueprint("miniapp_projects", url_prefix="/projects")


@bp.get("")
@endpoint(
    summary="我的项目",
    access=Access.kinds("person", bound=True),
    response=Page[MyProject],
)
async def my_projects(request: Request, principal: Principal) -> HTTPResponse:
    """The caller's projects: membership, team, contract warning and permit posts."""
    return every(await personal.my_projects(principal))


@bp.get("/<code:str>/summary")
@endpoint(
    summary="项目概况（岗位人员）",
    access=Access.project(VIEW, "person"),
    response=ProjectSummary,
)
async def summary(request: Request, access: ProjectAccess) -> HTTPResponse:
    """Post personnel only: today on site, active members, contract warnings."""
    return ok(await personal.project_summary(access))

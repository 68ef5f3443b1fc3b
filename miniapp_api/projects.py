"""My projects, and the project summary screen of post personnel."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import ok, page, project_access, require_kind
from services import personal

bp = Blueprint("miniapp_projects", url_prefix="/projects")


@bp.get("")
async def my_projects(request: Request) -> HTTPResponse:
    """The caller's projects: membership, team, contract warning and permit posts."""
    principal = await require_kind(request, "person")
    rows = await personal.my_projects(principal)
    return page(rows, len(rows))


@bp.get("/<code:str>/summary")
async def summary(request: Request, code: str) -> HTTPResponse:
    """Post personnel only: today on site, active members, contract warnings."""
    await require_kind(request, "person")
    access = await project_access(request, code)
    return ok(await personal.project_summary(access.project, access.posts))

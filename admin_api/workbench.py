"""The workbench (工作台) of one project."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.contract import Access, endpoint
from realname.web import ok
from services import workbench as workbench_service
from services.identity import VIEW, ProjectAccess
from services.schemas.projectinfo import Workbench, WorkbenchQuery

bp = Blueprint("admin_workbench", url_prefix="/projects")


@bp.get("/<code:str>/workbench")
@endpoint(summary="工作台", access=Access.project(VIEW), response=Workbench)
async def workbench(request: Request, query: WorkbenchQuery, access: ProjectAccess) -> HTTPResponse:
    """Materials state, attendance, to-dos, announcements, report months (``year``), projects."""
    return ok(await workbench_service.workbench(access, query.year))

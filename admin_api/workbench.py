"""The workbench (工作台) of one project."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.errors import ValidationError
from realname.web import ok, project_access
from services import workbench as workbench_service

bp = Blueprint("admin_workbench", url_prefix="/projects")


@bp.get("/<code:str>/workbench")
async def workbench(request: Request, code: str) -> HTTPResponse:
    """Materials state, attendance, to-dos, announcements, report months (``year``), projects."""
    access = await project_access(request, code)
    year = request.args.get("year")
    if year is not None:
        if not year.isdigit() or not 2000 <= int(year) <= 2100:
            raise ValidationError("年份应为4位数字", code="invalid_month", field="year")
    return ok(await workbench_service.workbench(access, int(year) if year else None))

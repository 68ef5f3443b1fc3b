"""操作日志: a project's audit log for its enterprise admins and regulators, list and export."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import audit_project, page, paging, project_access
from services import audit_view
from services.exports import stream_file, write_xlsx
from services.identity import VIEW

bp = Blueprint("admin_audit", url_prefix="/projects/<code:str>/audit")


@bp.get("")
async def list_audit(request: Request, code: str) -> HTTPResponse:
    """操作日志: who, role, action, target, masked or not, time, IP; newest first.

    Filters ``action``, ``person`` (name or ID number), ``date_from``, ``date_to``.
    """
    access = await project_access(request, code, VIEW)
    audit_view.require_reader(access)
    filters = audit_view.AuditFilter.from_args(request.args)
    page_no, size = paging(request, default_size=20)
    rows, total = await audit_view.project_log(access, filters, page_no, size)
    return page(rows, total)


@bp.get("/export")
async def export_audit(request: Request, code: str) -> HTTPResponse:
    """导出操作日志: the filtered log as .xlsx with the list's columns (audited)."""
    access = await project_access(request, code, VIEW)
    audit_view.require_reader(access)
    filters = audit_view.AuditFilter.from_args(request.args)
    path, rows = await write_xlsx(
        audit_view.EXPORT_COLUMNS, audit_view.export_batches(access, filters), sheet="操作日志"
    )
    await audit_project(
        request,
        access,
        "audit.export",
        target=f"project:{access.project.code}",
        detail={"rows": rows, "filters": filters.audit_view()},
    )
    return await stream_file(request, path, filename=f"{access.project.name}-操作日志.xlsx")

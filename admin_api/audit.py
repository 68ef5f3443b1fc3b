"""操作日志: a project's audit log for its enterprise admins and regulators, list and export."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._exports import send_export
from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import page
from services import audit_view
from services.exports import XLSX_TYPE
from services.identity import VIEW, ProjectAccess
from services.schemas.audit import AuditEntry, AuditExportQuery, AuditQuery

bp = Blueprint("admin_audit", url_prefix="/projects/<code:str>/audit")

# Enterprise admins of the project's units and the region's regulators (audit_view.require_reader
# still checks it: post personnel, workers and operators are refused).
READERS = Access.project(VIEW, "enterprise", "regulator")


@bp.get("")
@endpoint(
    summary="操作日志",
    access=READERS,
    response=Page[AuditEntry],
    errors=(E.AUDIT_FORBIDDEN, E.INVALID_RANGE),
)
async def list_audit(request: Request, query: AuditQuery, access: ProjectAccess) -> HTTPResponse:
    """操作日志: who, role, action, target, masked or not, time, IP; newest first.

    Filters ``action``, ``person`` (name or ID number), ``date_from``, ``date_to``.
    """
    audit_view.require_reader(access)
    filters = audit_view.AuditFilter.from_args(query.filter_args())
    rows, total = await audit_view.project_log(access, filters, query.page, query.page_size)
    return page(rows, total)


@bp.get("/export")
@endpoint(
    summary="导出操作日志",
    access=READERS,
    response="binary",
    content_type=XLSX_TYPE,
    errors=(E.AUDIT_FORBIDDEN, E.INVALID_RANGE),
)
async def export_audit(
    request: Request, query: AuditExportQuery, access: ProjectAccess
) -> HTTPResponse | None:
    """导出操作日志: the filtered log as .xlsx with the list's columns (audited)."""
    audit_view.require_reader(access)
    filters = audit_view.AuditFilter.from_args(query.filter_args())
    await send_export(
        request,
        access,
        "audit.export",
        columns=audit_view.EXPORT_COLUMNS,
        batches=audit_view.export_batches(access, filters),
        sheet="操作日志",
        title="操作日志",
        detail={"filters": filters.audit_view()},
    )
    return None

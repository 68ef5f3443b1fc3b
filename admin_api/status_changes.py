"""Project status change requests (项目状态变更申请), the project side: apply, list, detail."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api.units import read_form
from realname.web import audit_project, ok, page, paging, project_access
from services import status_change
from services.identity import MANAGE

bp = Blueprint("admin_status_changes", url_prefix="/projects")


@bp.get("/<code:str>/status-changes")
async def list_requests(request: Request, code: str) -> HTTPResponse:
    """变更记录: 变更前状态, 变更状态, 审批状态, 当前审核人, 发起人, 发起时间 (filter ``state``)."""
    access = await project_access(request, code)
    page_no, size = paging(request)
    rows, total = await status_change.list_for_project(
        access, request.args.get("state"), page_no, size
    )
    chain = [
        {"level": lvl, "region_code": region, "step_label": status_change.step_label(lvl, final)}
        for lvl, region, final in status_change.review_chain(access.project)
    ]
    return page(
        rows,
        total,
        current_status=access.project.status,
        statuses=list(status_change.PROJECT_STATUSES),
        review_chain=chain,
    )


@bp.post("/<code:str>/status-changes")
async def apply(request: Request, code: str) -> HTTPResponse:
    """变更申请: ``to_status``, ``reason`` and optional ``files`` (multipart or JSON)."""
    access = await project_access(request, code, MANAGE)
    data, uploads = read_form(request)
    req = await status_change.apply(access, data, uploads.get("files", []), request.app.ctx.files)
    await audit_project(
        request,
        access,
        "status_change.apply",
        target=f"status_change:{req.id}",
        detail={"from": req.from_status, "to": req.to_status},
    )
    return ok(await status_change.detail_for_project(access, req.id), status=201)


@bp.get("/<code:str>/status-changes/<request_id:int>")
async def detail(request: Request, code: str, request_id: int) -> HTTPResponse:
    """查看详情: the request with its files and each review's notes."""
    access = await project_access(request, code)
    return ok(await status_change.detail_for_project(access, request_id))


@bp.post("/<code:str>/status-changes/<request_id:int>/withdraw")
async def withdraw(request: Request, code: str, request_id: int) -> HTTPResponse:
    """撤回 an open request nobody has reviewed yet."""
    access = await project_access(request, code, MANAGE)
    await status_change.withdraw(access, request_id)
    await audit_project(
        request,
        access,
        "status_change.withdraw",
        target=f"status_change:{request_id}",
    )
    return ok(await status_change.detail_for_project(access, request_id))

"""Project status change requests (项目状态变更申请), the project side: apply, list, detail."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._forms import uploads_of
from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.web import audit_request, ok, page
from services import status_change
from services.identity import MANAGE, VIEW, ProjectAccess
from services.schemas.projectinfo import (
    StatusChangeApply,
    StatusChangePage,
    StatusChangePublic,
    StatusChangeQuery,
    fields,
)

bp = Blueprint("admin_status_changes", url_prefix="/projects")


@bp.get("/<code:str>/status-changes")
@endpoint(
    summary="项目状态变更记录",
    access=Access.project(VIEW),
    response=StatusChangePage,
)
async def list_requests(
    request: Request, query: StatusChangeQuery, access: ProjectAccess
) -> HTTPResponse:
    """变更记录: 变更前状态, 变更状态, 审批状态, 当前审核人, 发起人, 发起时间 (filter ``state``)."""
    rows, total = await status_change.list_for_project(
        access, query.state or None, query.page, query.page_size
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
@endpoint(
    summary="项目状态变更申请",
    access=Access.project(MANAGE),
    form=True,
    files=("files",),
    response=StatusChangePublic,
    status=201,
    errors=(
        E.INVALID_CHOICE,
        E.SAME_STATUS,
        E.TOO_MANY,
        E.INVALID_FILE_TYPE,
        E.TOO_LARGE,
        E.OPEN_REQUEST_EXISTS,
        E.NO_REVIEWER,
    ),
)
async def apply(request: Request, body: StatusChangeApply, access: ProjectAccess) -> HTTPResponse:
    """变更申请: ``to_status``, ``reason`` and optional ``files`` (multipart or JSON)."""
    req = await status_change.apply(
        access, fields(body), uploads_of(request).get("files", []), request.app.ctx.files
    )
    await audit_request(
        request,
        access,
        "status_change.apply",
        target=f"status_change:{req.id}",
        detail={"from": req.from_status, "to": req.to_status},
    )
    return ok(await status_change.detail_for_project(access, req.id), status=201)


@bp.get("/<code:str>/status-changes/<request_id:int>")
@endpoint(
    summary="项目状态变更详情",
    access=Access.project(VIEW),
    response=StatusChangePublic,
    errors=(E.REQUEST_NOT_FOUND,),
)
async def detail(request: Request, request_id: int, access: ProjectAccess) -> HTTPResponse:
    """查看详情: the request with its files and each review's notes."""
    return ok(await status_change.detail_for_project(access, request_id))


@bp.post("/<code:str>/status-changes/<request_id:int>/withdraw")
@endpoint(
    summary="撤回项目状态变更申请",
    access=Access.project(MANAGE),
    response=StatusChangePublic,
    errors=(E.REQUEST_NOT_FOUND, E.REQUEST_CLOSED, E.REQUEST_IN_REVIEW),
)
async def withdraw(request: Request, request_id: int, access: ProjectAccess) -> HTTPResponse:
    """撤回 an open request nobody has reviewed yet."""
    await status_change.withdraw(access, request_id)
    await audit_request(
        request,
        access,
        "status_change.withdraw",
        target=f"status_change:{request_id}",
    )
    return ok(await status_change.detail_for_project(access, request_id))

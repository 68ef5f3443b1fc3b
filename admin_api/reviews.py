"""Regulator reviews of project status changes (rule 8): my queue, approve, reject."""

from __future__ import annotations

from functools import partial

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import audit_request, ok, page
from services import status_change
from services.identity import Principal
from services.schemas.projectinfo import (
    ReviewDecision,
    ReviewQueueQuery,
    StatusChangePublic,
)

bp = Blueprint("admin_reviews", url_prefix="/reviews")
REGULATOR = Access.kinds("regulator")
DECIDE_ERRORS = (
    E.REQUEST_NOT_FOUND,
    E.REQUEST_CLOSED,
    E.REQUEST_CHANGED,
    E.NOT_YOUR_TURN,
    E.ALREADY_REVIEWED,
    E.WRONG_REVIEWER,
)

# 通过 and 不通过 take the same decision and reply with the request
decision_endpoint = partial(
    endpoint,
    access=REGULATOR,
    response=StatusChangePublic,
    errors=DECIDE_ERRORS,
)


@bp.get("/status-changes")
@endpoint(
    summary="我的状态变更审核列表",
    access=REGULATOR,
    response=Page[StatusChangePublic],
)
async def my_queue(request: Request, query: ReviewQueueQuery, principal: Principal) -> HTTPResponse:
    """Requests waiting for my review (``state=pending``) or decided by my region (``done``)."""
    rows, total = await status_change.review_queue(
        principal, query.state or "pending", query.page, query.page_size
    )
    return page(rows, total)


@bp.get("/status-changes/<request_id:int>")
@endpoint(
    summary="状态变更审核详情",
    access=REGULATOR,
    response=StatusChangePublic,
    errors=(E.REQUEST_NOT_FOUND,),
)
async def review_detail(request: Request, request_id: int, principal: Principal) -> HTTPResponse:
    """One request with its review steps."""
    return ok(await status_change.detail_for_reviewer(principal, request_id))


async def _decide(
    request: Request, principal: Principal, request_id: int, approve: bool, notes: str
) -> HTTPResponse:
    req = await status_change.review(principal, request_id, approve, notes)
    await audit_request(
        request,
        principal,
        "status_change.approve" if approve else "status_change.reject",
        target=f"status_change:{req.id}",
        project_id=req.project_id,
    )
    return ok(await status_change.detail_for_reviewer(principal, request_id))


@bp.post("/status-changes/<request_id:int>/approve")
@decision_endpoint(summary="状态变更审核通过")
async def approve(
    request: Request, request_id: int, body: ReviewDecision, principal: Principal
) -> HTTPResponse:
    """审核通过 the current step (the final one changes the project's status)."""
    return await _decide(request, principal, request_id, True, body.notes)


@bp.post("/status-changes/<request_id:int>/reject")
@decision_endpoint(summary="状态变更审核不通过")
async def reject(
    request: Request, request_id: int, body: ReviewDecision, principal: Principal
) -> HTTPResponse:
    """审核不通过, with ``notes`` (required); the project's status stays."""
    return await _decide(request, principal, request_id, False, body.notes)

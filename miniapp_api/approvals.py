"""Post personnel's approval queue in the mini-program: supplementary attendance (考勤补录)."""

from __future__ import annotations

from functools import partial

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import every, ip_of, ok
from services import supplement
from services.identity import Principal
from services.schemas.miniapp import ApprovalDecision, SupplementView

bp = Blueprint("miniapp_approvals", url_prefix="/approvals")

DECIDE_ERRORS = (
    E.SUPPLEMENT_NOT_FOUND,
    E.ALREADY_DECIDED,
    E.NOT_CURRENT_NODE,
    E.NOT_ON_CHAIN,
)

# 同意 and 驳回 take the same decision and reply with the request
decision_endpoint = partial(
    endpoint,
    access=Access.kinds("person"),
    response=SupplementView,
    errors=DECIDE_ERRORS,
)


@bp.get("")
@endpoint(
    summary="待我审批的补录申请", access=Access.kinds("person"), response=Page[SupplementView]
)
async def queue(request: Request, principal: Principal) -> HTTPResponse:
    """Every supplementary-attendance request now waiting for the caller's decision."""
    return every(await supplement.pending_for(principal))


@bp.post("/<request_id:int>/approve")
@decision_endpoint(summary="同意补录申请")
async def approve(
    request: Request, request_id: int, body: ApprovalDecision, principal: Principal
) -> HTTPResponse:
    """Approve at the caller's node of the chain."""
    return ok(await supplement.decide(principal, request_id, True, body.comment, ip=ip_of(request)))


@bp.post("/<request_id:int>/reject")
@decision_endpoint(summary="驳回补录申请")
async def reject(
    request: Request, request_id: int, body: ApprovalDecision, principal: Principal
) -> HTTPResponse:
    """Reject (ends the request); a `comment` (审批意见) is required."""
    return ok(
        await supplement.decide(principal, request_id, False, body.comment, ip=ip_of(request))
    )

"""Post personnel's approval queue in the mini-program: supplementary attendance (考勤补录)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.errors import ValidationError
from realname.web import body_of, ip_of, ok, page, require_kind
from services import supplement

bp = Blueprint("miniapp_approvals", url_prefix="/approvals")


@bp.get("")
async def queue(request: Request) -> HTTPResponse:
    """Every supplementary-attendance request now waiting for the caller's decision."""
    principal = await require_kind(request, "person")
    rows = await supplement.pending_for(principal)
    return page(rows, len(rows))


async def _decide(request: Request, request_id: int, approve: bool) -> HTTPResponse:
    """Approve or reject with the body's `comment` (required to reject)."""
    principal = await require_kind(request, "person")
    comment = body_of(request).get("comment") or ""
    if not isinstance(comment, str):
        raise ValidationError("审批意见应为文字", field="comment")
    return ok(await supplement.decide(principal, request_id, approve, comment, ip=ip_of(request)))


@bp.post("/<request_id:int>/approve")
async def approve(request: Request, request_id: int) -> HTTPResponse:
    """Approve at the caller's node of the chain."""
    return await _decide(request, request_id, True)


@bp.post("/<request_id:int>/reject")
async def reject(request: Request, request_id: int) -> HTTPResponse:
    """Reject (ends the request); a `comment` is required."""
    return await _decide(request, request_id, False)

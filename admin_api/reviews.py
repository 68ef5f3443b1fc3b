"""Regulator reviews of project status changes (rule 8): my queue, approve, reject."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models import AccountKind
from realname.web import body_of, ip_of, ok, page, paging, require_kind
from services import audit, status_change

bp = Blueprint("admin_reviews", url_prefix="/reviews")


@bp.get("/status-changes")
async def my_queue(request: Request) -> HTTPResponse:
    """Requests waiting for my review (``state=pending``) or decided by my region (``done``)."""
    principal = await require_kind(request, AccountKind.REGULATOR)
    page_no, size = paging(request)
    rows, total = await status_change.review_queue(
        principal, request.args.get("state") or "pending", page_no, size
    )
    return page(rows, total)


@bp.get("/status-changes/<request_id:int>")
async def review_detail(request: Request, request_id: int) -> HTTPResponse:
    """One request with its review steps."""
    principal = await require_kind(request, AccountKind.REGULATOR)
    return ok(await status_change.detail_for_reviewer(principal, request_id))


async def _decide(request: Request, request_id: int, approve: bool) -> HTTPResponse:
    principal = await require_kind(request, AccountKind.REGULATOR)
    req = await status_change.review(principal, request_id, approve, body_of(request).get("notes"))
    await audit.record(
        "status_change.approve" if approve else "status_change.reject",
        principal=principal,
        project_id=req.project_id,  # type: ignore[attr-defined]
        target=f"status_change:{req.id}",
        ip=ip_of(request),
    )
    return ok(await status_change.detail_for_reviewer(principal, request_id))


@bp.post("/status-changes/<request_id:int>/approve")
async def approve(request: Request, request_id: int) -> HTTPResponse:
    """审核通过 the current step (the final one changes the project's status)."""
    return await _decide(request, request_id, True)


@bp.post("/status-changes/<request_id:int>/reject")
async def reject(request: Request, request_id: int) -> HTTPResponse:
    """审核不通过, with ``notes`` (required); the project's status stays."""
    return await _decide(request, request_id, False)

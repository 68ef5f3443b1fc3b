"""Binding requests waiting for a project's labour officer (WeChat phone ≠ enrolled phone)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import body_of, ip_of, ok, page, project_access
from services import binding, identity

bp = Blueprint("admin_binding_requests", url_prefix="/projects/<code:str>/binding-requests")


async def _officer(request: Request, code: str) -> identity.ProjectAccess:
    """The labour officer's standing: manage the project and see its personal data."""
    access = await project_access(request, code, identity.MANAGE)
    return access.require(identity.VIEW_PII)


@bp.get("")
async def list_requests(request: Request, code: str) -> HTTPResponse:
    """Binding requests of persons on the project (`status`, default pending; `all` for every)."""
    access = await _officer(request, code)
    status = request.args.get("status", "pending")
    rows = await binding.requests_for_project(access.project, None if status == "all" else status)
    return page(rows, len(rows))


async def _decide(request: Request, code: str, request_id: int, approve: bool) -> HTTPResponse:
    """Approve or reject one request with the body's optional `note`."""
    access = await _officer(request, code)
    body = body_of(request)
    result = await binding.decide(
        request.app.ctx.redis,
        access.project,
        request_id,
        approve=approve,
        note=body.get("note"),
        principal=access.principal,
        ip=ip_of(request),
    )
    return ok(result)


@bp.post("/<request_id:int>/approve")
async def approve(request: Request, code: str, request_id: int) -> HTTPResponse:
    """Confirm the binding: the WeChat account is bound to the person."""
    return await _decide(request, code, request_id, True)


@bp.post("/<request_id:int>/reject")
async def reject(request: Request, code: str, request_id: int) -> HTTPResponse:
    """Refuse the binding (a `note` with the reason is required)."""
    return await _decide(request, code, request_id, False)

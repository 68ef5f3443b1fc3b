"""Binding requests waiting for a project's labour officer (WeChat phone ≠ enrolled phone)."""

from __future__ import annotations

from functools import partial

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import every, ip_of, ok
from services import binding, identity
from services.identity import ProjectAccess
from services.schemas.miniapp import BindingRequestView
from services.schemas.signin import BindingDecision, BindingRequestQuery, BindingRequestRow

bp = Blueprint("admin_binding_requests", url_prefix="/projects/<code:str>/binding-requests")

# The labour officer's standing: manage the project, and (checked in the handler) see its
# personal data.
OFFICER = Access.project(identity.MANAGE)
DECIDE_ERRORS = (
    E.BINDING_REQUEST_NOT_FOUND,
    E.BINDING_REQUEST_DECIDED,
    E.ACCOUNT_ALREADY_BOUND,
)

# 确认 and 驳回 take the same decision and reply with the request
decision_endpoint = partial(
    endpoint,
    access=OFFICER,
    response=BindingRequestView,
    errors=DECIDE_ERRORS,
)


@bp.get("")
@endpoint(
    summary="实名绑定待确认列表",
    access=OFFICER,
    response=Page[BindingRequestRow],
)
async def list_requests(
    request: Request, query: BindingRequestQuery, access: ProjectAccess
) -> HTTPResponse:
    """Binding requests of persons on the project (`status`, default pending; `all` for every)."""
    access.require(identity.VIEW_PII)
    status = None if query.status == "all" else query.status
    return every(await binding.requests_for_project(access, status))


async def _decide(
    request: Request, access: ProjectAccess, request_id: int, approve: bool, note: str
) -> HTTPResponse:
    """Approve or reject one request with the body's optional `note`."""
    access.require(identity.VIEW_PII)
    result = await binding.decide(
        request.app.ctx.redis,
        access,
        request_id,
        approve=approve,
        note=note,
        ip=ip_of(request),
    )
    return ok(result)


@bp.post("/<request_id:int>/approve")
@decision_endpoint(summary="确认实名绑定")
async def approve(
    request: Request, request_id: int, body: BindingDecision, access: ProjectAccess
) -> HTTPResponse:
    """Confirm the binding: the WeChat account is bound to the person."""
    return await _decide(request, access, request_id, True, body.note)


@bp.post("/<request_id:int>/reject")
@decision_endpoint(summary="驳回实名绑定")
async def reject(
    request: Request, request_id: int, body: BindingDecision, access: ProjectAccess
) -> HTTPResponse:
    """Refuse the binding (a `note` with the reason is required)."""
    return await _decide(request, access, request_id, False, body.note)

"""Real-name binding in the mini-program: state, bind (name + ID number + phone), unbind."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.web import ip_of, ok
from services import binding
from services.identity import Principal
from services.schemas.miniapp import BindingCreate, BindingResult, BindingState, UnbindResult

bp = Blueprint("miniapp_binding", url_prefix="/binding")


@bp.get("")
@endpoint(summary="实名绑定状态", access=Access.kinds("person"), response=BindingState)
async def state(request: Request, principal: Principal) -> HTTPResponse:
    """The caller's binding, or their latest binding request."""
    return ok(await binding.binding_state(principal.account_id))


@bp.post("")
@endpoint(
    summary="实名绑定",
    access=Access.kinds("person"),
    response=BindingResult,
    status=201,
    errors=(
        E.INVALID_ID_NUMBER,
        E.INVALID_PHONE,
        E.PERSON_NOT_MATCHED,
        E.PERSON_ALREADY_BOUND,
        E.ACCOUNT_ALREADY_BOUND,
        E.RATE_LIMITED,
        E.WECHAT_INVALID_CODE,
        E.WECHAT_UNAVAILABLE,
    ),
)
async def bind(request: Request, body: BindingCreate, principal: Principal) -> HTTPResponse:
    """Bind to an enrolled person by `name`, `id_number` and a getPhoneNumber `phone_code`.

    201 when bound at once (a fresh token); 202 when the labour officer must confirm."""
    # Rate limits (per account, IP and person) and the audit of every attempt: in the service.
    result = await binding.request_binding(
        request.app.ctx.redis,
        request.app.ctx.wechat,
        principal.account_id,
        name=body.name,
        id_number=body.id_number,
        phone_code=body.phone_code,
        ip=ip_of(request),
        ttl=int(request.app.ctx.settings.token_ttl_seconds),
    )
    return ok(result, status=201 if result.get("status") == "bound" else 202)


@bp.delete("")
@endpoint(
    summary="解除实名绑定",
    access=Access.kinds("person", bound=True),
    response=UnbindResult,
)
async def unbind(request: Request, principal: Principal) -> HTTPResponse:
    """Remove the caller's binding (audited); the reply carries a fresh, unbound token."""
    return ok(
        await binding.unbind(
            request.app.ctx.redis,
            principal,
            ip=ip_of(request),
            ttl=int(request.app.ctx.settings.token_ttl_seconds),
        )
    )

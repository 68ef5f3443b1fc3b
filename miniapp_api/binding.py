"""Real-name binding in the mini-program: state, bind (name + ID number + phone), unbind."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import body_of, ip_of, ok, require_kind
from services import binding

bp = Blueprint("miniapp_binding", url_prefix="/binding")


@bp.get("")
async def state(request: Request) -> HTTPResponse:
    """The caller's binding, or their latest binding request."""
    principal = await require_kind(request, "person")
    return ok(await binding.binding_state(principal.account_id))


@bp.post("")
async def bind(request: Request) -> HTTPResponse:
    """Bind to an enrolled person by `name`, `id_number` and a getPhoneNumber `phone_code`."""
    principal = await require_kind(request, "person")
    body = body_of(request)
    # Rate limits (per account, IP and person) and the audit of every attempt: in the service.
    result = await binding.request_binding(
        request.app.ctx.redis,
        request.app.ctx.wechat,
        principal.account_id,
        name=body.get("name"),
        id_number=body.get("id_number"),
        phone_code=body.get("phone_code"),
        ip=ip_of(request),
        ttl=int(request.app.ctx.settings.token_ttl_seconds),
    )
    return ok(result, status=201 if result.get("status") == "bound" else 202)


@bp.delete("")
async def unbind(request: Request) -> HTTPResponse:
    """Remove the caller's binding (audited); the reply carries a fresh, unbound token."""
    principal = await require_kind(request, "person")
    return ok(
        await binding.unbind(
            request.app.ctx.redis,
            principal,
            ip=ip_of(request),
            ttl=int(request.app.ctx.settings.token_ttl_seconds),
        )
    )

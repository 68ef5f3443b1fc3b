"""Mini-program sign-in: wx.login code → bearer token; who am I; logout."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import bearer, body_of, ip_of, ok, require_kind
from services import binding, ratelimit, signin

bp = Blueprint("miniapp_auth", url_prefix="/auth")


@bp.post("/login")
async def login(request: Request) -> HTTPResponse:
    """Exchange a wx.login `code` for a token; the reply says whether real-name binding is done."""
    ip = ip_of(request)
    await ratelimit.hit(request.app.ctx.redis, ratelimit.MINIAPP_LOGIN, ip)
    body = body_of(request)
    result, account = await signin.miniapp_login(
        request.app.ctx.redis,
        request.app.ctx.wechat,
        body.get("code"),
        ip=ip,
        ttl=int(request.app.ctx.settings.token_ttl_seconds),
    )
    data = result.to_dict()
    data["binding"] = await binding.binding_state(account.id)
    data["post_projects"] = (
        await signin.post_personnel_projects(account.person_id)  # type: ignore[attr-defined]
        if account.person_id  # type: ignore[attr-defined]
        else []
    )
    return ok(data)


@bp.get("/me")
async def me(request: Request) -> HTTPResponse:
    """The caller's binding and, for post personnel, the projects of their posts."""
    principal = await require_kind(request, "person")
    data: dict[str, Any] = {
        "display_name": principal.display_name,
        "binding": await binding.binding_state(principal.account_id),
    }
    data["post_projects"] = (
        await signin.post_personnel_projects(principal.person_id) if principal.person_id else []
    )
    return ok(data)


@bp.post("/logout")
async def logout(request: Request) -> HTTPResponse:
    """Sign this mini-program session out."""
    principal = await require_kind(request, "person")
    await signin.sign_out(request.app.ctx.redis, bearer(request), principal, ip_of(request))
    return ok({"message": "已退出登录"})

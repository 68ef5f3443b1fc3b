"""Mini-program sign-in: wx.login code → bearer token; who am I; logout."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.web import bearer, ip_of, ok
from services import binding, ratelimit, signin
from services.identity import Principal
from services.schemas.miniapp import MeReply, Message, MiniappLogin, MiniappLoginReply

bp = Blueprint("miniapp_auth", url_prefix="/auth")


@bp.post("/login")
@endpoint(
    summary="小程序登录",
    access=Access.public(),
    response=MiniappLoginReply,
    errors=(
        E.WECHAT_INVALID_CODE,
        E.WECHAT_USER_BLOCKED,
        E.ACCOUNT_DISABLED,
        E.RATE_LIMITED,
        E.WECHAT_UNAVAILABLE,
    ),
)
async def login(request: Request, body: MiniappLogin) -> HTTPResponse:
    """Exchange a wx.login `code` for a token; the reply says whether real-name binding is done."""
    ip = ip_of(request)
    await ratelimit.hit(request.app.ctx.redis, ratelimit.MINIAPP_LOGIN, ip)
    result, account = await signin.miniapp_login(
        request.app.ctx.redis,
        request.app.ctx.wechat,
        body.code,
        ip=ip,
        ttl=int(request.app.ctx.settings.token_ttl_seconds),
    )
    data = result.to_dict()
    data["binding"] = await binding.binding_state(account.id)
    data["post_projects"] = (
        await signin.post_personnel_projects(account.person_id) if account.person_id else []
    )
    return ok(data)


@bp.get("/me")
@endpoint(summary="当前小程序用户", access=Access.kinds("person"), response=MeReply)
async def me(request: Request, principal: Principal) -> HTTPResponse:
    """The caller's binding and, for post personnel, the projects of their posts."""
    return ok(
        {
            "display_name": principal.display_name,
            "binding": await binding.binding_state(principal.account_id),
            "post_projects": (
                await signin.post_personnel_projects(principal.person_id)
                if principal.person_id
                else []
            ),
        }
    )


@bp.post("/logout")
@endpoint(summary="小程序退出登录", access=Access.kinds("person"), response=Message)
async def logout(request: Request, principal: Principal) -> HTTPResponse:
    """Sign this mini-program session out."""
    await signin.sign_out(request.app.ctx.redis, bearer(request), principal, ip_of(request))
    return ok({"message": "已退出登录"})

"""Web sign-in: enterprise SSO, personal QR sign-in (WebSocket + long-poll), logout, who am I."""

from __future__ import annotations

import base64
import json
from typing import Any

from sanic import Blueprint, Request, Websocket
from sanic.response import HTTPResponse, redirect

from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.errors import AppError
from realname.web import bearer, ip_of, ok
from services import identity, ratelimit, signin
from services.identity import Principal
from services.schemas.signin import (
    LoggedOut,
    MeReply,
    QrTicket,
    QrTicketView,
    QrWaitQuery,
    QrWsQuery,
    SignInReply,
    SsoCallbackQuery,
    SsoStartQuery,
    SsoStartReply,
)

bp = Blueprint("admin_auth", url_prefix="/auth")

WS_WAIT_SECONDS = 20.0
SSO_COOKIE_PATH = "/admin/v1/auth/sso"
SSO_ERROR_COOKIE = "sso_error"


def _ttl(request: Request) -> int:
    """The session lifetime from the settings."""
    return int(request.app.ctx.settings.token_ttl_seconds)


def _refused_in_browser(request: Request, exc: AppError) -> HTTPResponse:
    """A refused SSO sign-in in the browser: back to the console's sign-in page, which shows the
    reason and what to do. The error rides in a short-lived cookie set by this server (never in
    the URL, where anyone could put any text on our page)."""
    payload = json.dumps({"code": exc.code, "message": exc.message}, ensure_ascii=False)
    response = redirect("/login?sso_error=" + exc.code)
    response.add_cookie(
        SSO_ERROR_COOKIE,
        base64.urlsafe_b64encode(payload.encode()).decode().rstrip("="),
        httponly=False,  # read once by the sign-in page's script, then deleted
        samesite="Lax",
        secure=request.app.ctx.settings.public_base_url.startswith("https://"),
        max_age=120,
        path="/login",
    )
    response.delete_cookie(signin.SSO_BROWSER_COOKIE, path=SSO_COOKIE_PATH)
    return response


def _with_cookie(response: HTTPResponse, request: Request, token: str) -> HTTPResponse:
    """Also hand the session to the browser as an HttpOnly cookie (read by `web.bearer`)."""
    secure = request.app.ctx.settings.public_base_url.startswith("https://")
    response.add_cookie(
        "token",
        token,
        httponly=True,
        samesite="Lax",
        secure=secure,
        max_age=_ttl(request),
        path="/",
    )
    return response


@bp.get("/sso/start")
@endpoint(
    summary="企业登录（跳转统一身份认证平台）",
    access=Access.public(),
    response=SsoStartReply,
    errors=(E.RATE_LIMITED, E.INVALID_NEXT),
    redirect="跳转到统一身份认证平台的授权页（mode=json 时改为返回授权地址）",
)
async def sso_start(request: Request, query: SsoStartQuery) -> HTTPResponse:
    """Start enterprise sign-in: redirect to the provincial identity platform (state + PKCE).

    The reply is a 302 to the platform; with ``mode=json`` the authorize URL as JSON instead."""
    await ratelimit.hit(request.app.ctx.redis, ratelimit.SSO_START, ip_of(request))
    url, browser = await signin.sso_start(
        request.app.ctx.redis, request.app.ctx.idauth, query.next or None, query.kind
    )
    response = ok({"authorize_url": url}) if query.mode == "json" else redirect(url)
    # Binds the state to this browser; SameSite=Lax still sends it on the platform's redirect back.
    response.add_cookie(
        signin.SSO_BROWSER_COOKIE,
        browser,
        httponly=True,
        samesite="Lax",
        secure=request.app.ctx.settings.public_base_url.startswith("https://"),
        max_age=signin.SSO_STATE_TTL,
        path=SSO_COOKIE_PATH,
    )
    return response


@bp.get("/sso/callback")
@endpoint(
    summary="企业登录回调",
    access=Access.public(),
    response=SignInReply,
    errors=(
        E.RATE_LIMITED,
        E.SSO_STATE_INVALID,
        E.SSO_DENIED,
        E.SSO_INVALID_GRANT,
        E.SSO_BAD_CLAIMS,
        E.SSO_UNAVAILABLE,
        E.ENTERPRISE_NOT_ON_PROJECT,
        E.ACCOUNT_DISABLED,
        E.WRONG_ACCOUNT_KIND,
    ),
    redirect=(
        "登录成功，跳转回发起登录的页面（Set-Cookie 携带令牌）；"
        "浏览器中被拒绝时跳转到登录页并说明原因"
    ),
)
async def sso_callback(request: Request, query: SsoCallbackQuery) -> HTTPResponse:
    """The platform's redirect back: check state, redeem the code, apply rule 9, sign in.

    The reply redirects to the page the sign-in started from, or is the session as JSON. A
    refusal reaches a browser (``Accept: text/html``) as the console's sign-in page with the
    reason in Chinese (the ``sso_error`` cookie), others as the JSON error."""
    ip = ip_of(request)
    try:
        await ratelimit.hit(request.app.ctx.redis, ratelimit.SSO_CALLBACK, ip)
        result = await signin.sso_finish(
            request.app.ctx.redis,
            request.app.ctx.idauth,
            code=query.code,
            state=query.state,
            error=query.error,
            ip=ip,
            ttl=_ttl(request),
            browser=request.cookies.get(signin.SSO_BROWSER_COOKIE),
        )
    except AppError as exc:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        return _refused_in_browser(request, exc)
    response = redirect(result.next_path) if result.next_path else ok(result.to_dict())
    response.delete_cookie(signin.SSO_BROWSER_COOKIE, path=SSO_COOKIE_PATH)
    return _with_cookie(response, request, result.token)


@bp.post("/qr/tickets")
@endpoint(
    summary="创建扫码登录票据",
    access=Access.public(),
    response=QrTicket,
    status=201,
    errors=(E.RATE_LIMITED, E.WECHAT_RATE_LIMITED, E.WECHAT_PAGE_INVALID, E.WECHAT_UNAVAILABLE),
)
async def qr_ticket_create(request: Request) -> HTTPResponse:
    """A QR sign-in ticket with its mini-program code (PNG, base64) and the web's secret."""
    ip = ip_of(request)
    await ratelimit.hit(request.app.ctx.redis, ratelimit.QR_CREATE, ip)
    await ratelimit.hit(request.app.ctx.redis, ratelimit.QR_CREATE_ALL, "all")
    redis = request.app.ctx.redis
    ticket = await signin.create_ticket(redis, ip, request.headers.get("user-agent", ""))
    settings = request.app.ctx.settings
    try:
        png = await request.app.ctx.wechat.get_unlimited_qr(
            ticket["ticket"],
            settings.wechat_miniapp_page,
            check_path=not settings.is_dev,
            env_version="develop" if settings.is_dev else "release",
        )
    except AppError:
        # No code to scan (WeChat quota 45009 → 429, unpublished page 41030 → 503...): drop it.
        await redis.delete(signin.QR_PREFIX + ticket["ticket"])
        raise
    ticket["qr_image"] = "data:image/png;base64," + base64.b64encode(png).decode()
    return ok(ticket, status=201)


def _secret_of(request: Request, query: QrWaitQuery | QrWsQuery) -> str | None:
    """The web's ticket secret: X-Ticket-Secret header or ?secret=."""
    return request.headers.get("x-ticket-secret") or query.secret or None


QR_TICKET_ERRORS = (E.RATE_LIMITED, E.TICKET_INVALID, E.TICKET_EXPIRED)


@bp.get("/qr/tickets/<ticket:str>")
@endpoint(
    summary="扫码登录状态（长轮询）",
    access=Access.public(),
    response=QrTicketView,
    errors=QR_TICKET_ERRORS,
)
async def qr_ticket_poll(request: Request, ticket: str, query: QrWaitQuery) -> HTTPResponse:
    """Long-poll fallback: the ticket's status once it differs from `known` (or after `wait` s)."""
    ip = ip_of(request)
    await ratelimit.hit(request.app.ctx.redis, ratelimit.QR_POLL, ip)
    view = await signin.web_wait(
        request.app.ctx.redis,
        ticket,
        _secret_of(request, query),
        known=query.known or None,
        timeout=query.wait,
        ip=ip,
        ttl=_ttl(request),
    )
    response = ok(view)
    return _with_cookie(response, request, view["token"]) if "token" in view else response


@bp.websocket("/qr/tickets/<ticket:str>/ws")
@endpoint(  # type: ignore[arg-type]  # a websocket handler answers through `ws`
    summary="扫码登录状态推送（WebSocket）",
    access=Access.public(),
    response=QrTicketView,
    errors=QR_TICKET_ERRORS,
)
async def qr_ticket_ws(request: Request, ws: Websocket, ticket: str, query: QrWsQuery) -> None:
    """Push the ticket's status changes to the web page; the last message carries the session."""
    redis, ip = request.app.ctx.redis, ip_of(request)
    secret, known = _secret_of(request, query), None
    try:
        await ratelimit.hit(redis, ratelimit.QR_POLL, ip)
        while True:
            view = await signin.web_wait(
                redis,
                ticket,
                secret,
                known=known,
                timeout=WS_WAIT_SECONDS,
                ip=ip,
                ttl=_ttl(request),
            )
            if view["status"] != known:
                await ws.send(json.dumps(view, ensure_ascii=False))
                known = view["status"]
            if view["status"] in signin.FINAL_STATES:
                break
    except AppError as exc:
        await ws.send(json.dumps(exc.to_dict(), ensure_ascii=False))
    await ws.close()


@bp.post("/logout")
@endpoint(summary="退出登录", access=Access.signed_in(), response=LoggedOut)
async def logout(request: Request, principal: Principal) -> HTTPResponse:
    """Sign the current session out (token revoked, cookie cleared)."""
    await signin.sign_out(request.app.ctx.redis, bearer(request), principal, ip_of(request))
    response = ok({"message": "已退出登录"})
    response.delete_cookie("token", path="/")
    return response


@bp.get("/me")
@endpoint(summary="当前登录账号", access=Access.signed_in(), response=MeReply)
async def me(request: Request, principal: Principal) -> HTTPResponse:
    """The signed-in account and the projects it may switch between."""
    projects = await identity.accessible_projects(principal)
    data: dict[str, Any] = {
        "kind": principal.kind,
        "display_name": principal.display_name,
        "projects": [{"code": p.code, "name": p.name} for p in projects],
    }
    if principal.kind == "person" and principal.person_id:
        data["post_projects"] = await signin.post_personnel_projects(principal.person_id)
    return ok(data)

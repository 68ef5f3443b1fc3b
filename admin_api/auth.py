"""Web sign-in: enterprise SSO, personal QR sign-in (WebSocket + long-poll), logout, who am I."""

from __future__ import annotations

import base64
import json
from typing import Any

from sanic import Blueprint, Request, Websocket
from sanic.response import HTTPResponse, redirect

from realname.errors import AppError, ValidationError
from realname.web import bearer, current_principal, ip_of, ok
from services import identity, ratelimit, signin

bp = Blueprint("admin_auth", url_prefix="/auth")

WS_WAIT_SECONDS = 20.0
SSO_COOKIE_PATH = "/admin/v1/auth/sso"


def _ttl(request: Request) -> int:
    """The session lifetime from the settings."""
    return int(request.app.ctx.settings.token_ttl_seconds)


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
async def sso_start(request: Request) -> HTTPResponse:
    """Start enterprise sign-in: redirect to the provincial identity platform (state + PKCE)."""
    await ratelimit.hit(request.app.ctx.redis, ratelimit.SSO_START, ip_of(request))
    url, browser = await signin.sso_start(
        request.app.ctx.redis, request.app.ctx.idauth, request.args.get("next")
    )
    response = ok({"authorize_url": url}) if request.args.get("mode") == "json" else redirect(url)
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
async def sso_callback(request: Request) -> HTTPResponse:
    """The platform's redirect back: check state, redeem the code, apply rule 9, sign in."""
    ip = ip_of(request)
    await ratelimit.hit(request.app.ctx.redis, ratelimit.SSO_CALLBACK, ip)
    result = await signin.sso_finish(
        request.app.ctx.redis,
        request.app.ctx.idauth,
        code=request.args.get("code"),
        state=request.args.get("state"),
        error=request.args.get("error"),
        ip=ip,
        ttl=_ttl(request),
        browser=request.cookies.get(signin.SSO_BROWSER_COOKIE),
    )
    response = redirect(result.next_path) if result.next_path else ok(result.to_dict())
    response.delete_cookie(signin.SSO_BROWSER_COOKIE, path=SSO_COOKIE_PATH)
    return _with_cookie(response, request, result.token)


@bp.post("/qr/tickets")
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


def _secret_of(request: Request) -> str | None:
    """The web's ticket secret: X-Ticket-Secret header or ?secret=."""
    return request.headers.get("x-ticket-secret") or request.args.get("secret")


@bp.get("/qr/tickets/<ticket:str>")
async def qr_ticket_poll(request: Request, ticket: str) -> HTTPResponse:
    """Long-poll fallback: the ticket's status once it differs from `known` (or after `wait` s)."""
    ip = ip_of(request)
    await ratelimit.hit(request.app.ctx.redis, ratelimit.QR_POLL, ip)
    try:
        wait = float(request.args.get("wait", 0))
    except ValueError as exc:
        raise ValidationError("wait 应为秒数", field="wait") from exc
    if not 0 <= wait <= 30:
        raise ValidationError("wait 应在 0–30 秒之间", field="wait")
    view = await signin.web_wait(
        request.app.ctx.redis,
        ticket,
        _secret_of(request),
        known=request.args.get("known"),
        timeout=wait,
        ip=ip,
        ttl=_ttl(request),
    )
    response = ok(view)
    return _with_cookie(response, request, view["token"]) if "token" in view else response


@bp.websocket("/qr/tickets/<ticket:str>/ws")
async def qr_ticket_ws(request: Request, ws: Websocket, ticket: str) -> None:
    """Push the ticket's status changes to the web page; the last message carries the session."""
    redis, ip = request.app.ctx.redis, ip_of(request)
    secret, known = _secret_of(request), None
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
async def logout(request: Request) -> HTTPResponse:
    """Sign the current session out (token revoked, cookie cleared)."""
    principal = await current_principal(request)
    await signin.sign_out(request.app.ctx.redis, bearer(request), principal, ip_of(request))
    response = ok({"message": "已退出登录"})
    response.delete_cookie("token", path="/")
    return response


@bp.get("/me")
async def me(request: Request) -> HTTPResponse:
    """The signed-in account and the projects it may switch between."""
    principal = await current_principal(request)
    projects = await identity.accessible_projects(principal)
    data: dict[str, Any] = {
        "kind": principal.kind,
        "display_name": principal.display_name,
        "projects": [{"code": p.code, "name": p.name} for p in projects],
    }
    if principal.kind == "person" and principal.person_id:
        data["post_projects"] = await signin.post_personnel_projects(principal.person_id)
    return ok(data)

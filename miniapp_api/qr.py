"""Confirming a web QR sign-in from the mini-program: scan, confirm, cancel."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import ip_of, ok, require_kind
from services import ratelimit, signin

bp = Blueprint("miniapp_qr", url_prefix="/qr")


@bp.post("/<ticket:str>/scan")
async def scan(request: Request, ticket: str) -> HTTPResponse:
    """The scanned code's ticket: mark it scanned, say whether this person may confirm and who
    asked for it (browser IP, region, user agent, time) for the confirm screen."""
    principal = await require_kind(request, "person")
    await ratelimit.hit(request.app.ctx.redis, ratelimit.QR_SCAN, str(principal.account_id))
    settings = request.app.ctx.settings
    return ok(
        await signin.scan(
            request.app.ctx.redis,
            ticket,
            principal,
            ip_of(request),
            ip_regions=settings.ip_regions,
            tz=settings.timezone,
        )
    )


@bp.post("/<ticket:str>/confirm")
async def confirm(request: Request, ticket: str) -> HTTPResponse:
    """Confirm the web sign-in (post personnel only; others get the reason)."""
    principal = await require_kind(request, "person")
    await ratelimit.hit(request.app.ctx.redis, ratelimit.QR_SCAN, str(principal.account_id))
    settings = request.app.ctx.settings
    return ok(
        await signin.confirm(
            request.app.ctx.redis,
            ticket,
            principal,
            ip_of(request),
            ip_regions=settings.ip_regions,
            tz=settings.timezone,
        )
    )


@bp.post("/<ticket:str>/cancel")
async def cancel(request: Request, ticket: str) -> HTTPResponse:
    """Decline the web sign-in."""
    principal = await require_kind(request, "person")
    return ok(await signin.cancel(request.app.ctx.redis, ticket, principal, ip_of(request)))

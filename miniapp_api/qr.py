"""Confirming a web QR sign-in from the mini-program: scan, confirm, cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.web import ip_of, ok
from services import ratelimit, signin
from services.identity import Principal
from services.schemas.miniapp import QrCancelled, QrConfirmed, QrScanned

bp = Blueprint("miniapp_qr", url_prefix="/qr")

TICKET_ERRORS = (E.TICKET_INVALID, E.TICKET_EXPIRED, E.TICKET_USED, E.TICKET_TAKEN)


async def _step(
    request: Request,
    ticket: str,
    principal: Principal,
    step: Callable[[Any, str, Principal, signin.Phone], Awaitable[dict[str, Any]]],
) -> HTTPResponse:
    """Scan or confirm: rate-limited per account, with the browser's region looked up and times
    in the platform's zone for the confirm screen."""
    await ratelimit.hit(request.app.ctx.redis, ratelimit.QR_SCAN, str(principal.account_id))
    settings = request.app.ctx.settings
    phone = signin.Phone(ip_of(request), ip_regions=settings.ip_regions, tz=settings.timezone)
    return ok(await step(request.app.ctx.redis, ticket, principal, phone))


@bp.post("/<ticket:str>/scan")
@endpoint(
    summary="扫描网页登录二维码",
    access=Access.kinds("person", bound=True),
    response=QrScanned,
    errors=(*TICKET_ERRORS, E.RATE_LIMITED),
)
async def scan(request: Request, ticket: str, principal: Principal) -> HTTPResponse:
    """The scanned code's ticket: mark it scanned, say whether this person may confirm and who
    asked for it (browser IP, region, user agent, time) for the confirm screen."""
    return await _step(request, ticket, principal, signin.scan)


@bp.post("/<ticket:str>/confirm")
@endpoint(
    summary="确认网页登录",
    access=Access.kinds("person", bound=True),
    response=QrConfirmed,
    errors=(
        *TICKET_ERRORS,
        E.TICKET_NOT_SCANNED,
        E.NOT_POST_PERSONNEL,
        E.ACCOUNT_DISABLED,
        E.RATE_LIMITED,
    ),
)
async def confirm(request: Request, ticket: str, principal: Principal) -> HTTPResponse:
    """Confirm the web sign-in (post personnel only; others get the reason)."""
    return await _step(request, ticket, principal, signin.confirm)


@bp.post("/<ticket:str>/cancel")
@endpoint(
    summary="取消网页登录",
    access=Access.kinds("person", bound=True),
    response=QrCancelled,
    errors=(*TICKET_ERRORS, E.TICKET_NOT_SCANNED),
)
async def cancel(request: Request, ticket: str, principal: Principal) -> HTTPResponse:
    """Decline the web sign-in."""
    return ok(await signin.cancel(request.app.ctx.redis, ticket, principal, ip_of(request)))

"""HTTP plumbing shared by the surfaces: auth helpers, JSON bodies and replies, error rendering."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Request, json, raw
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from tortoise.exceptions import DoesNotExist, IntegrityError

from realname import error_codes as E
from realname.errors import AppError, Conflict, NotFound, ValidationError
from services import identity, localtime
from services.identity import Principal, ProjectAccess

log = logging.getLogger("realname")

# A route handler of any surface, as its decorators (endpoint, signed, adms) wrap it; one that
# streamed its reply itself (services.exports.stream_file) returns None.
Handler = Callable[..., Awaitable[HTTPResponse | None]]


def ok(data: Any = None, status: int = 200, **extra: Any) -> HTTPResponse:
    """A JSON reply; dicts pass through, anything else is wrapped as ``{"data": ...}``.

    The one encoder of the JSON surfaces: datetimes in the project's local time (ISO 8601 with
    the offset, whole seconds), dates as ``YYYY-MM-DD`` (see ``services.localtime``).
    """
    body = data if isinstance(data, dict) else {"data": data}
    body.update(extra)
    return json(body, status=status, ensure_ascii=False, default=localtime.json_default)


def page(rows: list[Any], total: int, **extra: Any) -> HTTPResponse:
    """A list reply: ``{"data": [...], "total": n}``."""
    return ok({"data": rows, "total": total, **extra})


def every(rows: list[Any]) -> HTTPResponse:
    """A list reply of all the rows there are (no paging): ``{"data": [...], "total": len}``."""
    return page(rows, len(rows))


def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or a ValidationError naming the problem."""
    try:
        data = request.json
    except Exception as exc:  # noqa: BLE001 - sanic raises its own BadRequest
        raise ValidationError("请求体不是有效的 JSON", code=E.MALFORMED_JSON.code) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError(code=E.MALFORMED_JSON.code)
    return data


def bearer(request: Request) -> str | None:
    """The bearer token of the request (Authorization header or ``token`` cookie)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get("token")


async def current_principal(request: Request) -> Principal:
    """The authenticated caller (cached on the request)."""
    cached = getattr(request.ctx, "principal", None)
    if cached is not None:
        return cached
    principal = await identity.resolve_token(request.app.ctx.redis, bearer(request))
    request.ctx.principal = principal
    return principal


def ip_of(request: Request) -> str:
    """The caller's IP address: the socket peer, or what a trusted proxy says (TRUSTED_PROXIES)."""
    cached = getattr(request.ctx, "client_ip", None)
    if cached is None:
        settings = request.app.ctx.settings
        cached = identity.client_ip(
            request.headers, request.ip, settings.trusted_proxies, settings.real_ip_header
        )
        request.ctx.client_ip = cached
    return cached


async def audit_request(
    request: Request,
    who: Principal | ProjectAccess,
    action: str,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
    project_id: int | None = None,
) -> None:
    """Audit an action of the caller: who, from where, and on which project (the one of `who`
    when it is a ProjectAccess, else `project_id` when given)."""
    from services import audit

    if isinstance(who, ProjectAccess):
        principal, project_id = who.principal, who.project.id
    else:
        principal = who
    await audit.record(
        action,
        principal=principal,
        project_id=project_id,
        target=target,
        detail=detail,
        ip=ip_of(request),
    )


async def deleted(
    request: Request, access: ProjectAccess, action: str, target: str
) -> HTTPResponse:
    """The reply to a removal on a project (``{"deleted": true}``), once it is audited."""
    await audit_request(request, access, action, target=target)
    return ok({"deleted": True})


async def private_file(
    request: Request,
    key: str,
    *,
    missing: AppError,
    content_type: str = "",
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    """The stored file `key` as a reply no shared cache keeps and no browser content-sniffs;
    `missing` when the store has lost it. Without `content_type`: a photo (PNG, else JPEG)."""
    try:
        data = await request.app.ctx.files.get(key)
    except FileNotFoundError as exc:
        raise missing from exc
    ctype = content_type or ("image/png" if data.startswith(b"\x89PNG") else "image/jpeg")
    return raw(
        data,
        content_type=ctype,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        },
    )


async def render_error(request: Request, exc: Exception) -> HTTPResponse:
    """The one error handler: AppError → its JSON; ORM errors mapped; the rest a 500."""
    if isinstance(exc, AppError):
        return json(exc.to_dict(), status=exc.status, ensure_ascii=False)
    if isinstance(exc, DoesNotExist):
        return await render_error(request, NotFound())
    if isinstance(exc, IntegrityError):
        return await render_error(request, Conflict(code=E.INTEGRITY.code))
    if isinstance(exc, SanicException):
        status = getattr(exc, "status_code", 500) or 500
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            status, "http_error"
        )
        message = {404: "接口不存在", 405: "不支持该请求方法", 413: "提交的内容过大"}.get(
            status, "请求有误"
        )
        return json({"code": code, "message": message}, status=status, ensure_ascii=False)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return json(
        {"code": "internal_error", "message": "服务器内部错误，请稍后再试"},
        status=500,
        ensure_ascii=False,
    )

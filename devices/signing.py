"""Request signing for the native protocol: a decorator that authenticates the device.

Every native endpoint is wrapped by ``signed(channel)``: it checks the body size, the device's
registration and binding, the HMAC signature, the clock window and the single-use nonce, records
the contact, and puts the device on ``request.ctx.device``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from models import Device
from realname import error_codes as E
from realname.errors import TooLarge, ValidationError
from realname.web import Handler, ip_of
from services import devices as device_service

AUTO_CHANNEL = "auto"  # collection machines count as collection contact, the rest attendance


def signed_path(request: Request) -> str:
    """The PATH that is signed: the path with its query string."""
    query = request.query_string
    return f"{request.path}?{query}" if query else request.path


def signed(
    channel: str, *, max_bytes: int | None = None, allow_forced: bool = False
) -> Callable[[Handler], Handler]:
    """Decorator: authenticate the device (contract error codes) before the handler runs."""

    def deco(func: Handler) -> Handler:
        @wraps(func)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
            settings = request.app.ctx.settings
            body = request.body or b""
            limit = max_bytes or settings.max_upload_bytes
            if len(body) > limit:
                raise TooLarge(f"请求体超过 {limit} 字节限制")
            headers = request.headers
            ip = ip_of(request)
            device = await device_service.verify_request(
                getattr(request.app.ctx, "nonces", None) or request.app.ctx.redis,
                sn=headers.get("x-device-sn", "").strip(),
                timestamp=headers.get("x-timestamp", "").strip(),
                nonce=headers.get("x-nonce", "").strip(),
                signature=headers.get("x-signature", "").strip(),
                method=request.method,
                path=signed_path(request),
                body=body,
                clock_window=settings.device_clock_window_seconds,
                nonce_ttl=settings.device_nonce_ttl_seconds,
                ip=ip,
                allow_forced=allow_forced,
            )
            if channel == AUTO_CHANNEL:
                kind = "collection" if device.kind == "collection" else "attendance"
            else:
                kind = channel
            await device_service.touch(device, kind, ip)
            request.ctx.device = device
            return await func(request, *args, **kwargs)

        return wrapper

    return deco


def device_of(request: Request) -> Device:
    """The authenticated device of a signed request."""
    return request.ctx.device


def json_body(request: Request) -> dict[str, Any]:
    """The JSON object body of a device request; 400 naming ``body`` when malformed."""
    try:
        data = request.json
    except Exception as exc:  # noqa: BLE001 - sanic raises its own BadRequest
        raise ValidationError(
            "请求体不是有效的 JSON", code=E.MALFORMED_JSON.code, status=400, field="body"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError(code=E.MALFORMED_JSON.code, status=400, field="body")
    return data

"""One error path: every failure the API reports is an `AppError` with a stable code.

Handlers raise; `render_error` (registered by the app factory) turns the error into
`{"code", "message", "field", "detail"}` JSON. Messages are Chinese, addressed to the user.
Every code is registered once, with its status and default message, in `realname.error_codes`.
"""

from __future__ import annotations

from typing import Any

from realname import error_codes as E


class AppError(Exception):
    """Base of every reported error: a stable `code`, an HTTP `status`, a Chinese `message`."""

    status = 400
    code = "bad_request"
    message = "请求有误"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        field: str | None = None,
        detail: Any = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.code
        if message is None and code is not None:
            from realname.error_codes import lookup

            entry = lookup(code)  # the registry's default message for the code
            message = entry.message if entry is not None else None
        self.message = message or self.message
        self.status = status or self.status
        self.field = field
        self.detail = detail
        self.extra = extra or {}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error reply."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.detail is not None:
            body["detail"] = self.detail
        body.update(self.extra)
        return body


class ValidationError(AppError):
    """A field of the request is missing or wrong; `field` names it."""

    status = 422
    code = "invalid_field"
    message = "提交的信息有误"


class NotAuthenticated(AppError):
    """No valid credentials."""

    status = 401
    code = "not_authenticated"
    message = "请先登录"


class Forbidden(AppError):
    """Authenticated, but not allowed to do this."""

    status = 403
    code = "forbidden"
    message = "无权进行此操作"


class NotFound(AppError):
    """The record does not exist or is not visible to the caller."""

    status = 404
    code = "not_found"
    message = "记录不存在"


class Conflict(AppError):
    """The request clashes with the current state (duplicate, wrong state)."""

    status = 409
    code = "conflict"
    message = "操作与当前状态冲突"


class RateLimited(AppError):
    """Too many attempts in a short time."""

    status = 429
    code = "rate_limited"
    message = "操作过于频繁，请稍后再试"


class TooLarge(AppError):
    """The request body or upload exceeds the limit."""

    status = 413
    code = "too_large"
    message = "提交的内容过大"


def require(value: Any, field: str, label: str) -> Any:
    """Return `value`, or raise a `ValidationError` naming `field` when it is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"请填写{label}", code=E.REQUIRED.code, field=field)
    return value.strip() if isinstance(value, str) else value

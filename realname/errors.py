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

    def __init_subclass__(cls, registered: E.ErrorCode | None = None, **kw: Any) -> None:
        """``class NotFound(AppError, registered=E.NOT_FOUND)``: the subclass's default status,
        code and message are the registered ones (``realname.error_codes``), not a copy."""
        super().__init_subclass__(**kw)
        if registered is not None:
            cls.status, cls.code, cls.message = (
                registered.status,
                registered.code,
                registered.message,
            )

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


class ValidationError(AppError, registered=E.INVALID_FIELD):
    """A field of the request is missing or wrong; `field` names it."""


class NotAuthenticated(AppError, registered=E.NOT_AUTHENTICATED):
    """No valid credentials."""


class Forbidden(AppError, registered=E.FORBIDDEN):
    """Authenticated, but not allowed to do this."""


class NotFound(AppError, registered=E.NOT_FOUND):
    """The record does not exist or is not visible to the caller."""


class Conflict(AppError, registered=E.CONFLICT):
    """The request clashes with the current state (duplicate, wrong state)."""


class RateLimited(AppError, registered=E.RATE_LIMITED):
    """Too many attempts in a short time."""


class TooLarge(AppError, registered=E.TOO_LARGE):
    """The request body or upload exceeds the limit."""


def require(value: Any, field: str, label: str) -> Any:
    """Return `value`, or raise a `ValidationError` naming `field` when it is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"请填写{label}", code=E.REQUIRED.code, field=field)
    return value.strip() if isinstance(value, str) else value

"""The error classes' defaults are their registered codes (realname.error_codes), not copies."""

from __future__ import annotations

import pytest

from integrations.idauth.client import IdAuthError
from realname import error_codes as E
from realname.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    TooLarge,
    ValidationError,
)


@pytest.mark.parametrize(
    ("error", "registered"),
    [
        (ValidationError, E.INVALID_FIELD),
        (NotAuthenticated, E.NOT_AUTHENTICATED),
        (Forbidden, E.FORBIDDEN),
        (NotFound, E.NOT_FOUND),
        (Conflict, E.CONFLICT),
        (RateLimited, E.RATE_LIMITED),
        (TooLarge, E.TOO_LARGE),
        (IdAuthError, E.SSO_UNAVAILABLE),
    ],
)
def test_a_bare_error_replies_its_registered_code(
    error: type[AppError], registered: E.ErrorCode
) -> None:
    reply = error()
    assert (reply.status, reply.to_dict()) == (
        registered.status,
        {"code": registered.code, "message": registered.message},
    )


def test_a_registered_code_brings_its_message_and_keeps_the_class_status() -> None:
    err = NotFound(code=E.MEMBER_NOT_FOUND.code, field="member_id")
    assert err.status == 404
    assert err.to_dict() == {
        "code": "member_not_found",
        "message": E.MEMBER_NOT_FOUND.message,
        "field": "member_id",
    }

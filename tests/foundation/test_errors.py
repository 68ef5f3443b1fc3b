"""The error classes' defaults are their registered codes (realname.error_codes), not copies."""

from __future__ import annotations

import pytest

from integrations.idauth.client import IdAuthError
from realname import error_codes as E
from realname import errors


@pytest.mark.parametrize(
    ("error", "registered"),
    [
        (errors.ValidationError, E.INVALID_FIELD),
        (errors.NotAuthenticated, E.NOT_AUTHENTICATED),
        (errors.Forbidden, E.FORBIDDEN),
        (errors.NotFound, E.NOT_FOUND),
        (errors.Conflict, E.CONFLICT),
        (errors.RateLimited, E.RATE_LIMITED),
        (errors.TooLarge, E.TOO_LARGE),
        (IdAuthError, E.SSO_UNAVAILABLE),
    ],
)
def test_a_bare_error_replies_its_registered_code(
    error: type[errors.AppError], registered: E.ErrorCode
) -> None:
    reply = error()
    assert (reply.status, reply.to_dict()) == (
        registered.status,
        {"code": registered.code, "message": registered.message},
    )


def test_a_registered_code_brings_its_message_and_keeps_the_class_status() -> None:
    err = errors.NotFound(code=E.MEMBER_NOT_FOUND.code, field="member_id")
    assert err.status == 404
    assert err.to_dict() == {
        "code": "member_not_found",
        "message": E.MEMBER_NOT_FOUND.message,
        "field": "member_id",
    }

"""My attendance: the month calendar of one of my own memberships, with punch photos."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.errors import NotFound
from realname.web import ok, private_file
from services import personal
from services.identity import Principal
from services.schemas.miniapp import MonthQuery, MyMonth

bp = Blueprint("miniapp_attendance", url_prefix="/members/<member_id:int>")

OWN = (E.NOT_OWN_RECORD, E.MEMBER_NOT_FOUND)


@bp.get("/attendance")
@endpoint(
    summary="我的考勤（月历）",
    access=Access.kinds("person", bound=True),
    response=MyMonth,
    errors=(*OWN, E.INVALID_MONTH),
)
async def month(
    request: Request, member_id: int, query: MonthQuery, principal: Principal
) -> HTTPResponse:
    """Days, hours and punches of a month (`month=YYYY-MM`) for the caller's own membership."""

    def photo_url(punch: dict[str, Any]) -> str:
        """The mini-program URL of a punch's photo."""
        return f"/miniapp/v1/members/{member_id}/punches/{punch['id']}/photo"

    return ok(await personal.my_month(principal, member_id, query.month, photo_url=photo_url))


@bp.get("/punches/<punch_id:int>/photo")
@endpoint(
    summary="我的考勤照片",
    access=Access.kinds("person", bound=True),
    response="binary",
    content_type="image/jpeg",
    errors=(*OWN, E.PHOTO_NOT_FOUND),
)
async def punch_photo(
    request: Request, member_id: int, punch_id: int, principal: Principal
) -> HTTPResponse:
    """The photo taken with one of the caller's own punches."""
    return await private_file(
        request,
        await personal.own_punch_photo(principal, member_id, punch_id),
        missing=NotFound(code=E.PHOTO_NOT_FOUND.code),
        headers={"Cache-Control": "private, max-age=3600"},
    )

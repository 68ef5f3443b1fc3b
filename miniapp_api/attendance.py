"""My attendance: the month calendar of one of my own memberships, with punch photos."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from realname.web import ok, require_kind
from services import personal

bp = Blueprint("miniapp_attendance", url_prefix="/members/<member_id:int>")


@bp.get("/attendance")
async def month(request: Request, member_id: int) -> HTTPResponse:
    """Days, hours and punches of a month (`month=YYYY-MM`) for the caller's own membership."""
    principal = await require_kind(request, "person")

    def photo_url(punch: dict[str, Any]) -> str:
        """The mini-program URL of a punch's photo."""
        return f"/miniapp/v1/members/{member_id}/punches/{punch['id']}/photo"

    return ok(
        await personal.my_month(
            principal, member_id, request.args.get("month"), photo_url=photo_url
        )
    )


@bp.get("/punches/<punch_id:int>/photo")
async def punch_photo(request: Request, member_id: int, punch_id: int) -> HTTPResponse:
    """The photo taken with one of the caller's own punches."""
    principal = await require_kind(request, "person")
    key = await personal.own_punch_photo(principal, member_id, punch_id)
    data = await request.app.ctx.files.get(key)
    return raw(data, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

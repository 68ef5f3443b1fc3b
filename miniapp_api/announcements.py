"""Announcements (通知公告) for the projects of the caller."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.contract import Access, Page, endpoint
from realname.web import page
from services import personal
from services.identity import Principal
from services.schemas.miniapp import AnnouncementQuery, AnnouncementView

bp = Blueprint("miniapp_announcements", url_prefix="/announcements")


@bp.get("")
@endpoint(
    summary="通知公告",
    access=Access.kinds("person", bound=True),
    response=Page[AnnouncementView],
)
async def announcements(
    request: Request, query: AnnouncementQuery, principal: Principal
) -> HTTPResponse:
    """Current announcements covering any of the caller's projects, newest first."""
    rows, total = await personal.announcements_for(principal, query.page, query.page_size)
    return page(rows, total)

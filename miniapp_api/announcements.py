"""Announcements (通知公告) for the projects of the caller."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import page, paging, require_kind
from services import personal

bp = Blueprint("miniapp_announcements", url_prefix="/announcements")


@bp.get("")
async def announcements(request: Request) -> HTTPResponse:
    """Current announcements covering any of the caller's projects, newest first."""
    principal = await require_kind(request, "person")
    page_no, size = paging(request, default_size=20, max_size=50)
    rows, total = await personal.announcements_for(principal, page_no, size)
    return page(rows, total)

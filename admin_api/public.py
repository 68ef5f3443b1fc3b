"""Public project query (项目查询): no sign-in; units and key post personnel by name only."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname.web import ip_of, page, paging
from services import public_query

bp = Blueprint("admin_public", url_prefix="/public")


@bp.get("/projects")
async def query_projects(request: Request) -> HTTPResponse:
    """项目查询 by ``name`` (contains) or ``permit_number``; at most 20 per page."""
    page_no, size = paging(request, max_size=public_query.MAX_PAGE_SIZE)
    rows, total = await public_query.search(
        request.app.ctx.redis,
        ip_of(request),
        request.args.get("name"),
        request.args.get("permit_number"),
        page_no,
        size,
    )
    return page(rows, total)

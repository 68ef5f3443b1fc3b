"""Public project query (项目查询): no sign-in; units and key post personnel by name only."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from realname import error_codes as E
from realname.contract import Access, Page, endpoint
from realname.web import ip_of, page
from services import public_query
from services.schemas.projectinfo import PublicProject, PublicProjectQuery

bp = Blueprint("admin_public", url_prefix="/public")


@bp.get("/projects")
@endpoint(
    summary="项目查询（公开）",
    access=Access.public(),
    response=Page[PublicProject],
    errors=(E.RATE_LIMITED,),
)
async def query_projects(request: Request, query: PublicProjectQuery) -> HTTPResponse:
    """项目查询 by ``name`` (contains) or ``permit_number``; at most 20 per page."""
    rows, total = await public_query.search(
        request.app.ctx.redis,
        ip_of(request),
        query.name,
        query.permit_number,
        query.page,
        query.page_size,
    )
    return page(rows, total)

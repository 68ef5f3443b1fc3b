"""Announcements (通知公告): publishing (regulators, operators) and the project's view."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.announcements import Announcement
from realname import error_codes as E
from realname.contract import Access, Page, PageQuery, endpoint
from realname.web import audit_request, ok, page
from services import announcements
from services.identity import VIEW, Principal, ProjectAccess
from services.schemas.projectinfo import AnnouncementCreate, AnnouncementPublic, Withdrawn, fields

bp = Blueprint("admin_announcements")
PUBLISHERS = Access.kinds("regulator", "operator")


@bp.post("/announcements")
@endpoint(
    summary="发布通知公告",
    access=PUBLISHERS,
    response=AnnouncementPublic,
    status=201,
    errors=(E.UNKNOWN_REGION, E.OUTSIDE_REGION, E.NO_REGION),
)
async def publish(request: Request, body: AnnouncementCreate, principal: Principal) -> HTTPResponse:
    """发布通知公告: ``title``, ``content``, optional ``region_code`` within my region."""
    a: Announcement = await announcements.publish(principal, fields(body))
    await audit_request(request, principal, "announcements.publish", target=f"announcement:{a.id}")
    return ok(await announcements.view(a), status=201)


@bp.get("/announcements")
@endpoint(
    summary="已发布的通知公告",
    access=PUBLISHERS,
    response=Page[AnnouncementPublic],
    errors=(E.NO_REGION,),
)
async def published(request: Request, query: PageQuery, principal: Principal) -> HTTPResponse:
    """The notices of my region (publishers only)."""
    rows, total = await announcements.list_published(principal, query.page, query.page_size)
    return page(rows, total)


@bp.delete("/announcements/<announcement_id:int>")
@endpoint(
    summary="撤回通知公告",
    access=PUBLISHERS,
    response=Withdrawn,
    errors=(E.ANNOUNCEMENT_NOT_FOUND, E.NO_REGION),
)
async def withdraw(request: Request, announcement_id: int, principal: Principal) -> HTTPResponse:
    """撤回 a notice of my region."""
    await announcements.withdraw(principal, announcement_id)
    await audit_request(
        request, principal, "announcements.withdraw", target=f"announcement:{announcement_id}"
    )
    return ok({"withdrawn": True})


@bp.get("/projects/<code:str>/announcements")
@endpoint(
    summary="项目通知公告",
    access=Access.project(VIEW),
    response=Page[AnnouncementPublic],
)
async def for_project(request: Request, query: PageQuery, access: ProjectAccess) -> HTTPResponse:
    """The notices this project sees, newest first."""
    rows, total = await announcements.for_project(access.project, query.page, query.page_size)
    return page(rows, total)


@bp.get("/projects/<code:str>/announcements/<announcement_id:int>")
@endpoint(
    summary="通知公告详情",
    access=Access.project(VIEW),
    response=AnnouncementPublic,
    errors=(E.ANNOUNCEMENT_NOT_FOUND,),
)
async def detail(request: Request, announcement_id: int, access: ProjectAccess) -> HTTPResponse:
    """One notice with its content."""
    return ok(await announcements.project_detail(access.project, announcement_id))

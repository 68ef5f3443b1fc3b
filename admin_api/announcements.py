"""Announcements (通知公告): publishing (regulators, operators) and the project's view."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from models.announcements import Announcement
from realname.web import body_of, current_principal, ip_of, ok, page, paging, project_access
from services import announcements, audit

bp = Blueprint("admin_announcements")


@bp.post("/announcements")
async def publish(request: Request) -> HTTPResponse:
    """发布通知公告: ``title``, ``content``, optional ``region_code`` within my region."""
    principal = await current_principal(request)
    a: Announcement = await announcements.publish(principal, body_of(request))
    await audit.record(
        "announcements.publish",
        principal=principal,
        target=f"announcement:{a.id}",
        ip=ip_of(request),
    )
    return ok(await announcements.view(a), status=201)


@bp.get("/announcements")
async def published(request: Request) -> HTTPResponse:
    """The notices of my region (publishers only)."""
    principal = await current_principal(request)
    page_no, size = paging(request)
    rows, total = await announcements.list_published(principal, page_no, size)
    return page(rows, total)


@bp.delete("/announcements/<announcement_id:int>")
async def withdraw(request: Request, announcement_id: int) -> HTTPResponse:
    """撤回 a notice of my region."""
    principal = await current_principal(request)
    await announcements.withdraw(principal, announcement_id)
    await audit.record(
        "announcements.withdraw",
        principal=principal,
        target=f"announcement:{announcement_id}",
        ip=ip_of(request),
    )
    return ok({"withdrawn": True})


@bp.get("/projects/<code:str>/announcements")
async def for_project(request: Request, code: str) -> HTTPResponse:
    """The notices this project sees, newest first."""
    access = await project_access(request, code)
    page_no, size = paging(request)
    rows, total = await announcements.for_project(access.project, page_no, size)
    return page(rows, total)


@bp.get("/projects/<code:str>/announcements/<announcement_id:int>")
async def detail(request: Request, code: str, announcement_id: int) -> HTTPResponse:
    """One notice with its content."""
    access = await project_access(request, code)
    return ok(await announcements.project_detail(access.project, announcement_id))

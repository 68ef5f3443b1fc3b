"""Announcements (通知公告): regulators publish to the projects of their region, operators to
a region or to every project; the workbench and the mini-program read them."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q

from models import AccountKind, Project, Region
from models.announcements import Announcement
from realname import error_codes as E
from realname.errors import Forbidden, NotFound, ValidationError
from services import localtime
from services.identity import Principal, region_covers
from services.listing import paged
from services.units import text

_PREFIX = {"province": 2, "city": 4, "county": 6}


async def _publisher_region(principal: Principal) -> Region:
    region = await Region.get_or_none(code=principal.region_code or "")
    if region is None:
        raise Forbidden(code=E.NO_REGION.code)
    return region


def _require_publisher(principal: Principal) -> None:
    if principal.kind not in (AccountKind.REGULATOR, AccountKind.OPERATOR):
        raise Forbidden("仅主管部门或平台运维可发布通知公告", code=E.WRONG_ACCOUNT_KIND.code)


async def publish(principal: Principal, data: dict[str, Any]) -> Announcement:
    """发布 a notice to a region (default: the regulator's own region; operators: all)."""
    _require_publisher(principal)
    title = text(data, "title", "公告标题", required=True, max_len=200)
    content = text(data, "content", "公告内容", required=True, max_len=20000)
    code = str(data.get("region_code") or "").strip() or None
    if code is not None and not await Region.exists(code=code):
        raise ValidationError("发布区域不存在", code=E.UNKNOWN_REGION.code, field="region_code")
    if principal.kind == AccountKind.REGULATOR:
        own = await _publisher_region(principal)
        code = code or own.code
        if not region_covers(own.code, code, str(own.level)):
            raise Forbidden(code=E.OUTSIDE_REGION.code)
    return await Announcement.create(
        title=title,
        content=content,
        region_id=code,
        publisher_kind=principal.kind,
        publisher_account_id=principal.account_id,
        publisher_name=principal.display_name,
    )


async def _region_names(codes: set[str]) -> dict[str, str]:
    return {r.code: r.name for r in await Region.filter(code__in=list(codes))} if codes else {}


def announcement_public(
    a: Announcement, names: dict[str, str], full: bool = False
) -> dict[str, Any]:
    """A notice as lists show it (``full`` adds the content)."""
    region = a.region_id
    row: dict[str, Any] = {
        "id": a.id,
        "title": a.title,
        "region_code": region,
        "region_name": names.get(region, "全省") if region else "全部项目",
        "publisher": a.publisher_name,
        "published_at": a.published_at,
        "withdrawn": a.withdrawn_at is not None,
    }
    if full:
        row["content"] = a.content
    return row


async def view(a: Announcement) -> dict[str, Any]:
    """One notice with its content and region name."""
    names = await _region_names({a.region_id} if a.region_id else set())
    return announcement_public(a, names, full=True)


async def _page(
    query: Any, page_no: int, size: int, full: bool = False
) -> tuple[list[dict[str, Any]], int]:
    total = await query.count()
    rows = await paged(query, page_no, size, "-published_at", "-id")
    names = await _region_names({r.region_id for r in rows if r.region_id})
    return [announcement_public(r, names, full) for r in rows], total


async def list_published(
    principal: Principal, page_no: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """The notices of the publisher's region (operators: all), withdrawn ones included."""
    _require_publisher(principal)
    query = Announcement.all()
    if principal.kind == AccountKind.REGULATOR:
        own = await _publisher_region(principal)
        query = query.filter(region_id__startswith=own.code[: _PREFIX[str(own.level)]])
    return await _page(query, page_no, size)


async def withdraw(principal: Principal, announcement_id: int) -> Announcement:
    """撤回 a notice (hidden from projects, kept)."""
    _require_publisher(principal)
    a = await Announcement.get_or_none(id=announcement_id)
    if a is None:
        raise NotFound(code=E.ANNOUNCEMENT_NOT_FOUND.code)
    if principal.kind == AccountKind.REGULATOR:
        own = await _publisher_region(principal)
        region_code: str | None = a.region_id
        if region_code is None or not region_covers(own.code, region_code, str(own.level)):
            raise NotFound(code=E.ANNOUNCEMENT_NOT_FOUND.code)
    if a.withdrawn_at is None:
        a.withdrawn_at = localtime.now()
        await a.save(update_fields=["withdrawn_at"])
    return a


def _visible_to(project: Project) -> Any:
    code: str = project.region_id
    regions = {code, code[:4] + "00", code[:2] + "0000"}
    return Announcement.filter(
        Q(region_id__in=list(regions)) | Q(region_id__isnull=True), withdrawn_at__isnull=True
    )


async def for_project(
    project: Project, page_no: int = 1, size: int = 10
) -> tuple[list[dict[str, Any]], int]:
    """The notices a project sees (its county, city, province, and platform-wide), newest first."""
    return await _page(_visible_to(project), page_no, size)


async def project_detail(project: Project, announcement_id: int) -> dict[str, Any]:
    """One notice the project may see, with its content."""
    a = await _visible_to(project).filter(id=announcement_id).first()
    if a is None:
        raise NotFound(code=E.ANNOUNCEMENT_NOT_FOUND.code)
    return await view(a)

"""Attendance screens: 打卡统计, 出勤时长统计 (with export), punch diagnosis, workbench summary."""

from __future__ import annotations

from functools import partial
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from admin_api._exports import send_written
from realname import error_codes as E
from realname.contract import Access, endpoint
from realname.errors import NotFound
from realname.web import ok, page, private_file
from services import attendance, identity, localtime
from services.identity import ProjectAccess
from services.schemas.attendance import (
    DayPunches,
    DayQuery,
    MonthQuery,
    StatsPage,
    StatsQuery,
)
from services.schemas.miniapp import MyMonth
from services.schemas.projectinfo import AttendanceSummary

bp = Blueprint("admin_attendance", url_prefix="/projects/<code:str>/attendance")


def photo_link(code: str) -> Any:
    """A function giving the admin URL of a punch's photo."""
    return lambda p: f"/admin/v1/projects/{code}/attendance/punches/{p['id']}/photo"


# 打卡统计 and 出勤时长统计: one month's page (or its .xlsx export), the same query and reply
stats_endpoint = partial(
    endpoint,
    access=Access.project(identity.VIEW),
    response=StatsPage,
    errors=(E.INVALID_MONTH,),
)


async def _stats(
    request: Request, code: str, query: StatsQuery, access: ProjectAccess, durations: bool
) -> HTTPResponse | None:
    month = query.month or localtime.project_today(access.project).strftime("%Y-%m")
    attendance.month_bounds(month)
    filters = attendance.StatsFilter(
        query.person_type or None,
        query.work_status or None,
        query.unit,
        query.team,
        query.q or None,
    )
    if query.format == "xlsx":
        path, exported = await attendance.export_month(access, month, filters, durations=durations)
        kind = "duration" if durations else "punch"
        label = "出勤时长统计" if durations else "打卡统计"
        await send_written(
            request,
            access,
            f"attendance.export.{kind}_stats",
            path,
            exported,
            filename=f"{label}_{code}_{month}.xlsx",
            target=f"{code}:{month}",
            detail={
                "month": month,
                "filters": filters.audit_view(),
                "full_pii": access.can(identity.VIEW_PII),
            },
        )
        return None
    rows, total = await attendance.month_stats(
        access, month, filters, query.page, query.page_size, durations=durations
    )
    return page(rows, total, month=month)


@bp.get("/punch-stats")
@stats_endpoint(summary="打卡统计")
async def punch_stats(
    request: Request, code: str, query: StatsQuery, access: ProjectAccess
) -> HTTPResponse | None:
    """打卡统计: per-day ✓/X cells, 出勤天数, 有效出勤天数 (``?format=xlsx`` exports)."""
    return await _stats(request, code, query, access, durations=False)


@bp.get("/duration-stats")
@stats_endpoint(summary="出勤时长统计")
async def duration_stats(
    request: Request, code: str, query: StatsQuery, access: ProjectAccess
) -> HTTPResponse | None:
    """出勤时长统计: per-day hours, 出勤天数, 有效出勤时长 (``?format=xlsx`` exports)."""
    return await _stats(request, code, query, access, durations=True)


@bp.get("/members/<member_id:int>/punches")
@endpoint(
    summary="打卡诊断（某人某日的全部打卡）",
    access=Access.project(identity.VIEW),
    response=DayPunches,
    errors=(E.MEMBER_NOT_FOUND,),
)
async def member_punches(
    request: Request, code: str, member_id: int, query: DayQuery, access: ProjectAccess
) -> HTTPResponse:
    """Punch diagnosis: every punch received that day, accepted or rejected, with the reason."""
    return ok(await attendance.member_day_punches(access, member_id, query.date, photo_link(code)))


@bp.get("/members/<member_id:int>/month")
@endpoint(
    summary="人员考勤月历",
    access=Access.project(identity.VIEW),
    response=MyMonth,
    errors=(E.MEMBER_NOT_FOUND, E.INVALID_MONTH),
)
async def member_month(
    request: Request, code: str, member_id: int, query: MonthQuery, access: ProjectAccess
) -> HTTPResponse:
    """A member's month calendar: per-day state, hours and punches."""
    year, month, _, _ = attendance.month_bounds(query.month)
    member = await attendance.visible_member(access, member_id)  # else 404 member_not_found
    return ok(await attendance.member_month(member.id, year, month, photo_link(code)))


@bp.get("/punches/<punch_id:int>/photo")
@endpoint(
    summary="打卡照片",
    access=Access.project(identity.VIEW),
    response="binary",
    content_type="image/jpeg",
    errors=(E.PHOTO_NOT_FOUND,),
)
async def punch_photo(request: Request, punch_id: int, access: ProjectAccess) -> HTTPResponse:
    """The photo taken with a punch (for the diagnosis view)."""
    return await private_file(
        request,
        await attendance.punch_photo_key(access, punch_id),
        missing=NotFound(code=E.PHOTO_NOT_FOUND.code),
        headers={"Cache-Control": "private, max-age=300"},
    )


@bp.get("/summary")
@endpoint(
    summary="工作台考勤概况", access=Access.project(identity.VIEW), response=AttendanceSummary
)
async def summary(request: Request, access: ProjectAccess) -> HTTPResponse:
    """Workbench attendance summary: on site today by person type and unit, month rate."""
    return ok(await attendance.workbench_summary(access))

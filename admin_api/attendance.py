"""Attendance screens: 打卡统计, 出勤时长统计 (with export), punch diagnosis, workbench summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from realname.errors import NotFound, ValidationError
from realname.web import ip_of, ok, page, paging, project_access
from services import attendance, audit, identity
from services.exports import stream_file

bp = Blueprint("admin_attendance", url_prefix="/projects/<code:str>/attendance")


def _date_arg(request: Request, name: str = "date") -> dt.date:
    raw_value = (request.args.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(raw_value)
    except ValueError as exc:
        raise ValidationError("日期格式应为 YYYY-MM-DD", code="invalid_date", field=name) from exc


def photo_link(code: str) -> Any:
    """A function giving the admin URL of a punch's photo."""
    return lambda p: f"/admin/v1/projects/{code}/attendance/punches/{p['id']}/photo"


async def _stats(request: Request, code: str, durations: bool) -> HTTPResponse:
    access = await project_access(request, code, identity.VIEW)
    month = request.args.get("month") or dt.date.today().strftime("%Y-%m")
    attendance.month_bounds(month)
    filters = attendance.StatsFilter.parse(request.args)
    if request.args.get("format") == "xlsx":
        path, exported = await attendance.export_month(access, month, filters, durations=durations)
        kind = "duration" if durations else "punch"
        await audit.record(
            f"attendance.export.{kind}_stats",
            principal=access.principal,
            project_id=access.project.id,
            target=f"{code}:{month}",
            ip=ip_of(request),
            detail={
                "month": month,
                "filters": filters.audit_view(),
                "rows": exported,
                "full_pii": access.can(identity.VIEW_PII),
            },
        )
        label = "出勤时长统计" if durations else "打卡统计"
        return await stream_file(request, path, filename=f"{label}_{code}_{month}.xlsx")
    page_no, size = paging(request)
    rows, total = await attendance.month_stats(
        access, month, filters, page_no, size, durations=durations
    )
    return page(rows, total, month=month)


@bp.get("/punch-stats")
async def punch_stats(request: Request, code: str) -> HTTPResponse:
    """打卡统计: per-day ✓/X cells, 出勤天数, 有效出勤天数 (``?format=xlsx`` exports)."""
    return await _stats(request, code, durations=False)


@bp.get("/duration-stats")
async def duration_stats(request: Request, code: str) -> HTTPResponse:
    """出勤时长统计: per-day hours, 出勤天数, 有效出勤时长 (``?format=xlsx`` exports)."""
    return await _stats(request, code, durations=True)


@bp.get("/members/<member_id:int>/punches")
async def member_punches(request: Request, code: str, member_id: int) -> HTTPResponse:
    """Punch diagnosis: every punch received that day, accepted or rejected, with the reason."""
    access = await project_access(request, code, identity.VIEW)
    day = _date_arg(request)
    return ok(await attendance.member_day_punches(access.project, member_id, day, photo_link(code)))


@bp.get("/members/<member_id:int>/month")
async def member_month(request: Request, code: str, member_id: int) -> HTTPResponse:
    """A member's month calendar: per-day state, hours and punches."""
    access = await project_access(request, code, identity.VIEW)
    year, month, _, _ = attendance.month_bounds(request.args.get("month") or "")
    if not await attendance.member_in_project(access.project.id, member_id):
        raise NotFound("该项目没有此人员", code="member_not_found")
    return ok(await attendance.member_month(member_id, year, month, photo_link(code)))


@bp.get("/punches/<punch_id:int>/photo")
async def punch_photo(request: Request, code: str, punch_id: int) -> HTTPResponse:
    """The photo taken with a punch (for the diagnosis view)."""
    access = await project_access(request, code, identity.VIEW)
    key = await attendance.punch_photo_key(access.project.id, punch_id)
    data = await request.app.ctx.files.get(key)
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return raw(data, content_type=kind, headers={"Cache-Control": "private, max-age=300"})


@bp.get("/summary")
async def summary(request: Request, code: str) -> HTTPResponse:
    """Workbench attendance summary: on site today by person type and unit, month rate."""
    access = await project_access(request, code, identity.VIEW)
    return ok(await attendance.workbench_summary(access.project.id))

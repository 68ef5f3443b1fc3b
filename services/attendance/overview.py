"""One member's punches (with the reasons in plain Chinese) and month, the workbench summary."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from models import (
    DailyAttendance,
    DayState,
    PersonType,
    ProjectMember,
    Punch,
    PunchStatus,
    WorkStatus,
)
from models.people import PERSON_TYPE_LABELS
from realname import error_codes as E
from realname.errors import NotFound
from services import localtime
from services.attendance.clock import local_day, month_bounds, zone
from services.attendance.labels import DIRECTION_LABELS, REASON_LABELS, SOURCE_LABELS, STATE_LABELS
from services.attendance.settlement import settle, settle_stale
from services.attendance.stats import _day_cells, _day_rows, _hours
from services.scope import ProjectAccess

# --- punch diagnosis, month view, workbench ------------------------------------------------------


def punch_public(p: dict[str, Any], photo_url: str | None) -> dict[str, Any]:
    """The reply shape of one punch, with the reason in plain Chinese."""
    reason = p.get("reason")
    status = str(p["status"])
    return {
        "id": p["id"],
        "time": p["time"],
        "direction": str(p["direction"]),
        "direction_label": DIRECTION_LABELS.get(p["direction"], str(p["direction"])),
        "status": status,
        "accepted": status == PunchStatus.ACCEPTED,
        "reason": reason,
        "reason_label": REASON_LABELS.get(reason, reason) if reason else None,
        "source": str(p["source"]),
        "source_label": SOURCE_LABELS.get(p["source"], ""),
        "device_sn": p.get("device_sn"),
        "liveness": p["liveness"],
        "received_at": p["received_at"],
        "photo_url": photo_url,
    }


def _day_window(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)


async def _punches(
    member: ProjectMember, first: dt.date, last: dt.date, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Every punch of a member between two local days, accepted or rejected (also those the
    device sent for the person but the pipeline could not tie to the membership)."""
    start, _ = _day_window(first, tz)
    _, end = _day_window(last, tz)
    who = Q(member_id=member.id) | Q(
        person_id=member.person_id,
        project_id=member.project_id,
        member_id=None,
    )
    when = Q(local_date__gte=first, local_date__lte=last) | Q(
        local_date=None, time__gte=start, time__lt=end
    )
    rows = (
        await Punch.filter(who, when)
        .order_by("time", "id")
        .values(
            "id",
            "time",
            "local_date",
            "direction",
            "status",
            "reason",
            "source",
            "liveness",
            "received_at",
            "photo_key",
            device_sn="device__sn",
        )
    )
    for r in rows:
        r["day"] = r["local_date"] or local_day(r["time"], tz)
    return rows


async def visible_member(access: ProjectAccess, member_id: int) -> ProjectMember:
    """A member of the project whose rows the caller sees (else NotFound: no probing by id)."""
    member = await access.rows(
        ProjectMember.filter(id=member_id, project_id=access.project.id)
    ).first()
    if member is None:
        raise NotFound(code=E.MEMBER_NOT_FOUND.code)
    return member


async def member_day_punches(
    access: ProjectAccess, member_id: int, day: dt.date, photo_url: Any = None
) -> dict[str, Any]:
    """Punch diagnosis: every punch received for a member on a day, with the day's settlement."""
    member = await visible_member(access, member_id)
    tz = zone(access.project.timezone)
    today = localtime.today(tz)
    rows = await _punches(member, day, day, tz)
    punches = [
        punch_public(r, photo_url(r) if photo_url and r["photo_key"] else None) for r in rows
    ]
    accepted = [(r["time"], r["direction"]) for r in rows if r["status"] == PunchStatus.ACCEPTED]
    state, first_in, last_out, seconds, count = settle(accepted, day, today)
    return {
        "member_id": member.id,
        "date": day.isoformat(),
        "state": state.value,
        "state_label": STATE_LABELS[state],
        "first_in": first_in,
        "last_out": last_out,
        "hours": _hours(seconds),
        "accepted_count": count,
        "rejected_count": len(rows) - count,
        "punches": punches,
    }


async def member_month(
    member_id: int, year: int, month: int, photo_url: Any = None
) -> dict[str, Any]:
    """A member's calendar for a month: per-day state, hours and punches (mini-program view)."""
    member = await ProjectMember.get_or_none(id=member_id).select_related("project")
    if member is None:
        raise NotFound("人员不存在", code=E.MEMBER_NOT_FOUND.code)
    _, _, first, last = month_bounds(f"{year:04d}-{month:02d}")
    project = member.project
    tz = zone(project.timezone)
    today = localtime.today(tz)
    cells = (await _day_rows(project.id, [member.id], first, last, today)).get(member.id, {})
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for r in await _punches(member, first, last, tz):
        by_day[r["day"]].append(
            punch_public(r, photo_url(r) if photo_url and r["photo_key"] else None)
        )
    days, attended, effective, seconds = _day_cells(
        cells, first, last.day, durations=True, today=today
    )
    for cell in days:
        cell["state_label"] = STATE_LABELS[DayState(cell["state"])]
        cell["punches"] = by_day.get(dt.date.fromisoformat(cell["date"]), [])
    return {
        "member_id": member.id,
        "project_code": project.code,
        "project_name": project.name,
        "year": year,
        "month": month,
        "days": days,
        "attendance_days": attended,
        "effective_days": effective,
        "effective_hours": _hours(seconds),
    }


async def workbench_summary(access: ProjectAccess, today: dt.date | None = None) -> dict[str, Any]:
    """Today's on-site count by person type and unit, and this month's attendance rate, over
    the members the caller sees (its row scope).

    On site today: members with at least one accepted punch today (project-local). Attendance
    rate: attended member-days ÷ expected member-days, from the 1st (or entry date) to today,
    over members on the project then (entered, not yet exited); only attended days inside a
    member's expected days count, so the rate stays within 100%. Today is not over: it is
    expected only of those already on site, so the rate does not fall each morning (and on the
    1st, before the first punch, nothing is expected yet: 0 of 0).
    """
    project = access.project
    project_id = project.id
    today = today or localtime.project_today(project)
    first = today.replace(day=1)
    await settle_stale(project_id, today, first, today)
    days = access.rows(DailyAttendance.filter(project_id=project_id), "member__unit_id")
    present_set = set(await days.filter(day=today).values_list("member_id", flat=True))
    members = await access.rows(ProjectMember.filter(project_id=project_id)).values(
        "id",
        "person_type",
        "unit_id",
        "entry_date",
        "exit_date",
        "work_status",
        unit_name="unit__enterprise__name",
    )
    by_type: dict[str, int] = {PersonType.LABOUR.value: 0, PersonType.MANAGEMENT.value: 0}
    by_unit: dict[int, dict[str, Any]] = {}
    expected = 0
    windows: dict[int, tuple[dt.date, dt.date]] = {}
    for m in members:
        start = max(first, m["entry_date"] or first)
        end = today
        if m["exit_date"]:
            end = min(end, m["exit_date"])
        elif m["work_status"] == WorkStatus.LEFT:
            end = first - dt.timedelta(days=1)  # left, exit date unknown: not expected
        if m["id"] not in present_set:
            end = min(end, today - dt.timedelta(days=1))
        if end >= start:
            expected += (end - start).days + 1
            windows[m["id"]] = (start, end)
        if m["id"] in present_set:
            by_type[str(m["person_type"])] = by_type.get(str(m["person_type"]), 0) + 1
            u = by_unit.setdefault(
                m["unit_id"],
                {"unit_id": m["unit_id"], "unit_name": m["unit_name"] or "", "count": 0},
            )
            u["count"] += 1
    # Only days inside a member's expected window count, so the rate never exceeds 100%: a
    # member whose exit was recorded later with an earlier exit date keeps the days they
    # worked after it, but those days are not expected of them.
    attended = sum(
        1
        for member_id, day in await days.filter(day__gte=first, day__lte=today).values_list(
            "member_id", "day"
        )
        if member_id in windows and windows[member_id][0] <= day <= windows[member_id][1]
    )
    rate = round(attended / expected, 4) if expected else 0.0
    return {
        "date": today.isoformat(),
        "on_site_total": len(present_set),
        "on_site_by_person_type": [
            {"person_type": k, "label": PERSON_TYPE_LABELS.get(PersonType(k), k), "count": v}
            for k, v in by_type.items()
        ],
        "on_site_by_unit": sorted(by_unit.values(), key=lambda u: -u["count"]),
        "month": first.strftime("%Y-%m"),
        "attended_member_days": attended,
        "expected_member_days": expected,
        "attendance_rate": rate,
    }


async def punch_photo_key(access: ProjectAccess, punch_id: int) -> str:
    """The file-store key of a punch's photo (NotFound when none, or not a punch of a member
    the caller sees)."""
    # a punch not tied to a membership has no unit: only site-wide callers see it
    punches = access.rows(
        Punch.filter(id=punch_id, project_id=access.project.id), "member__unit_id"
    )
    keys = await punches.values_list("photo_key", flat=True)
    if not keys or not keys[0]:
        raise NotFound("该打卡记录没有照片", code=E.PHOTO_NOT_FOUND.code)
    return str(keys[0])

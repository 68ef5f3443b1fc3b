"""Monthly attendance statistics (打卡统计 / 出勤时长统计): pages and row iteration (which members:
the filter and the caller's row scope, `services.member_filter.StatsFilter`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

from tortoise import connections

from models import DailyAttendance, DayState, PersonType
from models.people import PERSON_TYPE_LABELS, WORK_STATUS_LABELS
from services import localtime, pii
from services.attendance.clock import month_bounds
from services.attendance.labels import _POST_TEXT
from services.attendance.settlement import settle_days, settle_stale
from services.member_filter import StatsFilter
from services.scope import ProjectAccess

# --- monthly statistics --------------------------------------------------------------------------

# The member row both paths give (the SQL page and the ORM export): own columns, then joined ones.
_MEMBER_FIELDS = ("id", "person_type", "work_type", "post", "work_status", "unit_id", "team_id")
_MEMBER_VALUES = dict(
    unit_name="unit__enterprise__name",
    team_name="team__name",
    person_name="person__name",
    id_masked="person__id_number_masked",
    phone_masked="person__phone_masked",
    id_enc="person__id_number_enc",
    phone_enc="person__phone_enc",
)


def _member_columns(m: dict[str, Any], index: int, full_pii: bool) -> dict[str, Any]:
    labour = m["person_type"] == PersonType.LABOUR
    if full_pii:
        c = pii.cipher()
        id_number, phone = c.decrypt(m["id_enc"]) or "", c.decrypt(m["phone_enc"]) or ""
    else:
        id_number, phone = m["id_masked"] or "", m["phone_masked"] or ""
    post = m["post"] or ""
    return {
        "index": index,
        "member_id": m["id"],
        "unit_id": m["unit_id"],
        "unit_name": m["unit_name"] or "",
        "team_id": m["team_id"],
        "team_name": m["team_name"] or "",
        "person_type": str(m["person_type"]),
        "person_type_label": PERSON_TYPE_LABELS.get(PersonType(m["person_type"]), ""),
        "work_type_or_post": m["work_type"] if labour else _POST_TEXT.get(post, post),
        "work_status": str(m["work_status"]),
        "work_status_label": WORK_STATUS_LABELS.get(m["work_status"], ""),
        "name": m["person_name"],
        "id_number": id_number,
        "phone": phone,
    }


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


def _day_cells(
    cells: dict[int, tuple[str, int]],
    first: dt.date,
    n_days: int,
    durations: bool,
    today: dt.date,
) -> tuple[list[dict[str, Any]], int, int, int]:
    """Per-day cells and (attendance days, effective days, effective seconds); a day after the
    project's `today` is marked ``future`` (shown blank: it is not an absence yet)."""
    out = []
    attended = effective = seconds = 0
    for d in range(1, n_days + 1):
        state, secs = cells.get(d, (DayState.ABSENT.value, 0))
        day = first.replace(day=d)
        cell: dict[str, Any] = {
            "day": d,
            "date": day.isoformat(),
            "state": state,
            "future": day > today,
        }
        if state != DayState.ABSENT:
            attended += 1
        if state == DayState.NORMAL:
            effective += 1
            seconds += secs
        if durations:
            cell["hours"] = _hours(secs) if state == DayState.NORMAL else 0
        out.append(cell)
    return out, attended, effective, seconds


async def _day_rows(
    project_id: int, member_ids: Sequence[int], first: dt.date, last: dt.date, today: dt.date
) -> dict[int, dict[int, tuple[str, int]]]:
    """{member: {day of month: (state, seconds)}} for the members, settling stale days first."""
    by_member: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    if not member_ids:
        return by_member
    rows = await DailyAttendance.filter(
        member_id__in=list(member_ids), day__gte=first, day__lte=last
    ).values_list("member_id", "day", "state", "duration_seconds")
    stale = [(m, d) for m, d, s, _ in rows if s == DayState.TODAY and d < today]
    if stale:  # a closed day is never shown as today
        await settle_days(project_id, stale, today)
        rows = await DailyAttendance.filter(
            member_id__in=list(member_ids), day__gte=first, day__lte=last
        ).values_list("member_id", "day", "state", "duration_seconds")
    for member_id, day, state, seconds in rows:
        by_member[member_id][day.day] = (str(state), seconds)
    return by_member


_PAGE_SELECT = (
    "SELECT m.id, m.person_type, m.work_type, m.post, m.work_status, m.unit_id, m.team_id, "
    "e.name, t.name, p.name, p.id_number_masked, p.phone_masked, p.id_number_enc, p.phone_enc, "
    "count(*) OVER () FROM project_member m JOIN person p ON p.id = m.person_id "
    "JOIN participating_unit u ON u.id = m.unit_id JOIN enterprise e ON e.id = u.enterprise_id "
    "LEFT JOIN team t ON t.id = m.team_id WHERE "
)
_PAGE_KEYS = (*_MEMBER_FIELDS, *_MEMBER_VALUES)  # the order of _PAGE_SELECT's columns


def _render(sql: str, n: int, pg: bool) -> str:
    """Fill ``{}`` placeholders with ``?`` (SQLite) or ``$1..$n`` (PostgreSQL)."""
    return sql.format(*(f"${i}" for i in range(1, n + 1))) if pg else sql.format(*("?" * n))


async def month_stats(
    access: ProjectAccess, month: str, f: StatsFilter, page_no: int, size: int, *, durations: bool
) -> tuple[list[dict[str, Any]], int]:
    """One page of 打卡统计 (or 出勤时长统计 with ``durations``): rows and the filtered total.

    One statement for the page, its days and the filtered total (plus a count past the end).
    """
    project = access.project
    _, _, first, last = month_bounds(month)
    today = localtime.project_today(project)
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    conds, params = f.where(access)  # the filters and the caller's row scope
    day_expr = "EXTRACT(DAY FROM d.day)::int" if pg else "CAST(substr(d.day, 9, 2) AS INTEGER)"
    # One statement: the filtered page (with its total as a window count) joined to its days.
    sql = (
        "WITH pg AS ("
        + _PAGE_SELECT
        + " AND ".join(conds)
        + " ORDER BY m.id LIMIT {} OFFSET {}) SELECT pg.*, "
        + day_expr
        + ", d.state, d.duration_seconds FROM pg LEFT JOIN daily_attendance d"
        " ON d.member_id = pg.id AND d.day BETWEEN {} AND {} ORDER BY pg.id"
    )
    params += [
        size,
        (page_no - 1) * size,
        first if pg else first.isoformat(),
        last if pg else last.isoformat(),
    ]
    sql = _render(sql, len(params), pg)
    _, raw_rows = await conn.execute_query(sql, params)
    stale = [
        (r[0], first.replace(day=r[-3]))
        for r in raw_rows
        if r[-2] == DayState.TODAY and first.replace(day=r[-3]) < today
    ]
    if stale:  # settle-on-read: a closed day is never shown as today
        await settle_days(project.id, stale, today)
        _, raw_rows = await conn.execute_query(sql, params)
    members: list[dict[str, Any]] = []
    days: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    for r in raw_rows:
        if not members or members[-1]["id"] != r[0]:
            members.append(dict(zip(_PAGE_KEYS, r, strict=False)))
        if r[-3] is not None:
            days[r[0]][r[-3]] = (r[-2], r[-1])
    if members:
        total = raw_rows[0][len(_PAGE_KEYS)]
    else:  # past the last page: the total still has to be reported
        total = await f.queryset(access).count()
    full = access.can("view_pii")
    out = []
    for i, m in enumerate(members):
        row = _member_columns(m, (page_no - 1) * size + i + 1, full)
        cells, attended, effective, seconds = _day_cells(
            days.get(m["id"], {}), first, last.day, durations, today
        )
        row.update(days=cells, attendance_days=attended, effective_days=effective)
        if durations:
            row["effective_hours"] = _hours(seconds)
        out.append(row)
    return out, total


async def iter_month_rows(
    access: ProjectAccess, month: str, f: StatsFilter, batch: int = 1000
) -> AsyncIterator[tuple[list[dict[str, Any]], dict[int, dict[int, tuple[str, int]]]]]:
    """Every filtered member of the month in batches: (member rows, {member: {day: cell}})."""
    project = access.project
    _, _, first, last = month_bounds(month)
    today = localtime.project_today(project)
    await settle_stale(project.id, today, first, last)
    qs = f.queryset(access)  # the filters and the caller's row scope
    after = 0
    while True:
        members = (
            await qs.filter(id__gt=after)
            .order_by("id")
            .limit(batch)
            .values(*_MEMBER_FIELDS, **_MEMBER_VALUES)
        )
        if not members:
            return
        after = members[-1]["id"]
        days = await _bulk_cells(project.id, members[0]["id"], after, first, last)
        yield members, days
        if len(members) < batch:
            return


async def _bulk_cells(
    project_id: int, lo: int, hi: int, first: dt.date, last: dt.date
) -> dict[int, dict[int, tuple[str, int]]]:
    """Day cells of a member-id range of a project (raw rows: this is the export's hot path)."""
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    if pg:
        sql = (
            "SELECT member_id, EXTRACT(DAY FROM day)::int, state, duration_seconds "
            "FROM daily_attendance WHERE project_id=$1 AND member_id BETWEEN $2 AND $3 "
            "AND day BETWEEN $4 AND $5"
        )
        params: list[Any] = [project_id, lo, hi, first, last]
    else:
        sql = (
            "SELECT member_id, CAST(substr(day, 9, 2) AS INTEGER), state, duration_seconds "
            "FROM daily_attendance WHERE project_id=? AND member_id BETWEEN ? AND ? "
            "AND day BETWEEN ? AND ?"
        )
        params = [project_id, lo, hi, first.isoformat(), last.isoformat()]
    _, rows = await conn.execute_query(sql, params)
    out: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    for r in rows:
        out[r[0]][r[1]] = (r[2], r[3])
    return out

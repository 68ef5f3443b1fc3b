"""The monthly attendance exports (xlsx, the manual's columns and colours)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from models import DayState
from services import localtime
from services.attendance.clock import month_bounds
from services.attendance.stats import StatsFilter, _hours, _member_columns, iter_month_rows
from services.scope import ProjectAccess

# --- exports -------------------------------------------------------------------------------------

LEAD_COLUMNS = [
    ("序号", 6),
    ("所属单位", 24),
    ("所属班组", 14),
    ("人员类型", 10),
    ("工种/岗位", 12),
    ("工作状态", 9),
    ("姓名", 10),
    ("身份证号", 21),
    ("手机号", 14),
]

EXPORT_STYLES: dict[str, dict[str, Any]] = {
    "green": {"font_color": "#1E8E3E", "bold": True, "align": "center"},
    "grey": {"font_color": "#9AA0A6", "align": "center"},
    "absent": {"font_color": "#D93025", "align": "center"},
}


def export_columns(n_days: int, durations: bool) -> list[Any]:
    """The manual's headers in its order: member columns, 1..N, 出勤天数, 有效出勤天数/时长."""
    from services.exports import Column

    cols = [Column(h, w) for h, w in LEAD_COLUMNS]
    cols += [Column(str(d), 5 if not durations else 6) for d in range(1, n_days + 1)]
    cols += [Column("出勤天数", 9), Column("有效出勤时长" if durations else "有效出勤天数", 12)]
    return cols


def _export_rows(
    members: list[dict[str, Any]],
    days: dict[int, dict[int, tuple[str, int]]],
    start_index: int,
    n_days: int,
    durations: bool,
    full_pii: bool,
    first: dt.date,
    today: dt.date,
) -> list[list]:
    """Sheet rows for a batch of members (✓/X or hours per day) of the month starting on
    `first`; a day after the project's `today` is blank unless punched (not an absence yet)."""
    from services.exports import Cell

    green, grey, absent = Cell("✓", "green"), Cell("✓", "grey"), Cell("X", "absent")
    grey0 = Cell(0, "grey")
    normal, absent_state = DayState.NORMAL.value, DayState.ABSENT.value
    unpunched = 0 if durations else absent
    blank = [None if first.replace(day=d) > today else unpunched for d in range(1, n_days + 1)]
    empty: dict[int, tuple[str, int]] = {}
    out = []
    for i, m in enumerate(members):
        c = _member_columns(m, start_index + i, full_pii)
        day_cells = blank.copy()
        attended = effective = seconds = 0
        for d, (state, secs) in days.get(m["id"], empty).items():
            if state == absent_state or not 1 <= d <= n_days:
                continue
            attended += 1
            if state == normal:
                effective += 1
                seconds += secs
                day_cells[d - 1] = Cell(_hours(secs), "green") if durations else green
            else:
                day_cells[d - 1] = grey0 if durations else grey
        out.append(
            [
                c["index"],
                c["unit_name"],
                c["team_name"],
                c["person_type_label"],
                c["work_type_or_post"],
                c["work_status_label"],
                c["name"],
                c["id_number"],
                c["phone"],
                *day_cells,
                attended,
                _hours(seconds) if durations else effective,
            ]
        )
    return out


async def export_month(
    access: ProjectAccess,
    month: str,
    f: StatsFilter,
    *,
    durations: bool,
    tmpdir: str | None = None,
) -> tuple[str, int]:
    """Write the month's statistics for every filtered member to a temp .xlsx; (path, rows)."""
    from services.exports import write_xlsx

    _, _, first, last = month_bounds(month)
    full = access.can("view_pii")
    today = localtime.project_today(access.project)

    async def batches() -> AsyncIterator[list[list]]:
        index = 1
        async for members, days in iter_month_rows(access, month, f):
            yield _export_rows(members, days, index, last.day, durations, full, first, today)
            index += len(members)

    sheet = "出勤时长统计" if durations else "打卡统计"
    return await write_xlsx(
        export_columns(last.day, durations),
        batches(),
        sheet=sheet,
        styles=EXPORT_STYLES,
        tmpdir=tmpdir,
    )

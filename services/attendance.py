"""Attendance engine: settling a member's day from accepted punches (rules 1 and 2).

A day is *normal* only with at least one in-punch and one out-punch, the first in before the last
out; its duration is last out − first in. A day with punches that break this is *abnormal*; the
current project-local day is *today* (pending, no duration) until it closes at 24:00. Absent days
have no row. Only accepted punches count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from models import DailyAttendance, DayState, Direction, Punch, PunchStatus

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def local_day(moment: dt.datetime, tz: ZoneInfo = DEFAULT_TZ) -> dt.date:
    """The project-local calendar day a moment belongs to."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(tz).date()


def today_local(tz: ZoneInfo = DEFAULT_TZ) -> dt.date:
    """Today in the project's time zone."""
    return dt.datetime.now(tz).date()


def settle(
    punches: Iterable[tuple[dt.datetime, str]], day: dt.date, today: dt.date
) -> tuple[DayState, dt.datetime | None, dt.datetime | None, int, int]:
    """Pure rule: (state, first_in, last_out, duration_seconds, count) for a day's accepted punches."""
    ins = [t for t, d in punches if d == Direction.IN]
    outs = [t for t, d in punches if d == Direction.OUT]
    count = len(ins) + len(outs)
    first_in = min(ins) if ins else None
    last_out = max(outs) if outs else None
    if count == 0:
        return DayState.ABSENT, None, None, 0, 0
    if day >= today:
        return DayState.TODAY, first_in, last_out, 0, count
    if first_in is not None and last_out is not None and first_in < last_out:
        return DayState.NORMAL, first_in, last_out, int((last_out - first_in).total_seconds()), count
    return DayState.ABNORMAL, first_in, last_out, 0, count


async def settle_days(
    project_id: int, pairs: Iterable[tuple[int, dt.date]], today: dt.date | None = None
) -> int:
    """Re-settle the given (member id, day) pairs of one project from their accepted punches.

    Call it after the punches are committed (never inside the insert's transaction).
    Returns the number of days written.
    """
    wanted = {(m, d) for m, d in pairs}
    if not wanted:
        return 0
    today = today or today_local()
    member_ids = {m for m, _ in wanted}
    days = {d for _, d in wanted}
    rows = await Punch.filter(
        member_id__in=list(member_ids), local_date__in=list(days), status=PunchStatus.ACCEPTED
    ).values_list("member_id", "local_date", "time", "direction")
    grouped: dict[tuple[int, dt.date], list[tuple[dt.datetime, str]]] = defaultdict(list)
    for member_id, day, time, direction in rows:
        if (member_id, day) in wanted:
            grouped[(member_id, day)].append((time, direction))
    objs = []
    empty: list[tuple[int, dt.date]] = []
    for member_id, day in wanted:
        state, first_in, last_out, seconds, count = settle(grouped.get((member_id, day), []), day,
                                                           today)
        if state == DayState.ABSENT:
            empty.append((member_id, day))
            continue
        objs.append(DailyAttendance(
            project_id=project_id, member_id=member_id, day=day, first_in=first_in,
            last_out=last_out, duration_seconds=seconds, state=state, punch_count=count,
        ))
    if objs:
        await DailyAttendance.bulk_create(
            objs, on_conflict=["member_id", "day"],
            update_fields=["first_in", "last_out", "duration_seconds", "state", "punch_count",
                           "settled_at"],
        )
    for member_id, day in empty:
        await DailyAttendance.filter(member_id=member_id, day=day).delete()
    return len(objs)


async def settle_closed_days(today: dt.date | None = None) -> int:
    """Settle every day still marked *today* whose day has closed (run after 24:00)."""
    today = today or today_local()
    open_rows = await DailyAttendance.filter(state=DayState.TODAY, day__lt=today).values_list(
        "project_id", "member_id", "day"
    )
    by_project: dict[int, set[tuple[int, dt.date]]] = defaultdict(set)
    for project_id, member_id, day in open_rows:
        by_project[project_id].add((member_id, day))
    total = 0
    for project_id, pairs in by_project.items():
        total += await settle_days(project_id, pairs, today)
    return total

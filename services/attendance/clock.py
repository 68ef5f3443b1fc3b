"""The attendance engine's calendar: project time zones, local days, months.

The current moment and today's date come from the platform's one clock,
``services.localtime.now`` / ``today`` (set in tests with the ``clock`` fixture).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import time as _time
from typing import cast
from zoneinfo import ZoneInfo

from models import Project
from realname import error_codes as E
from realname.errors import ValidationError
from services import caches, localtime

# --- time zones ----------------------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo of a project's time zone name (the platform's zone when unset or unknown):
    the same rule as the times shown in replies, ``services.localtime.zone``."""
    return localtime.zone(name)


def local_day(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar day a moment belongs to in ``tz``, the project's zone (for a moment with no
    equivalent in ``tz``, such as ``0001-01-01 00:00`` at +08:00 from a reset terminal clock, the
    day as written: the punch pipeline rejects such times, this only keeps callers
    from crashing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(tz).date()
    except OverflowError:
        return moment.date()


async def project_zone(project_id: int) -> ZoneInfo:
    """The time zone of a project."""
    name = await Project.filter(id=project_id).values_list("timezone", flat=True)
    return zone(cast(str, name[0]) if name else None)


def month_bounds(month: str) -> tuple[int, int, dt.date, dt.date]:
    """``YYYY-MM`` → (year, month, first day, last day); a ValidationError naming ``month``."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", (month or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise ValidationError("考勤月份格式应为 YYYY-MM", code=E.INVALID_MONTH.code, field="month")
    year, mon = int(m.group(1)), int(m.group(2))
    last = calendar.monthrange(year, mon)[1]
    return year, mon, dt.date(year, mon, 1), dt.date(year, mon, last)


_ZONE_TTL = 30.0
_zones: dict[int, tuple[ZoneInfo, float]] = caches.zones


async def _zone_of(project_id: int) -> ZoneInfo:
    """A project's time zone, cached briefly for the pending-settlement drain."""
    cached = _zones.get(project_id)
    now = _time.monotonic()
    if cached is not None and now - cached[1] < _ZONE_TTL:
        return cached[0]
    tz = await project_zone(project_id)
    if len(_zones) > 10_000:
        _zones.clear()
    _zones[project_id] = (tz, now)
    return tz


def cached_zones() -> dict[int, ZoneInfo]:
    """The project time zones ``_zone_of`` holds and still trusts (younger than its TTL), by
    project id: the pending drain settles these projects' marks in one statement."""
    now = _time.monotonic()
    return {pid: tz for pid, (tz, at) in list(_zones.items()) if now - at < _ZONE_TTL}

"""Helpers for the attendance tests: punches made directly, in project-local time."""

from __future__ import annotations

import datetime as dt
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from models import Direction, ProjectMember, Punch, PunchSource, PunchStatus
from services.attendance import local_day
from tests.suite import uid

# the zone of the projects the factories make (and of the demo): Beijing time
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

# The first columns of the punch-statistics export, one per member, as the manual names them
# (the day columns and the totals follow); the API test and the console's end-to-end test read them.
EXPORT_MEMBER_COLUMNS = (
    "序号",
    "所属单位",
    "所属班组",
    "人员类型",
    "工种/岗位",
    "工作状态",
    "姓名",
    "身份证号",
    "手机号",
)
_seq = count(1)


def at(day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    """An aware project-local (Asia/Shanghai) moment."""
    return dt.datetime.combine(day, dt.time(hh, mm, ss), DEFAULT_TZ)


async def punch(
    member: ProjectMember,
    when: dt.datetime,
    direction: str = Direction.IN,
    *,
    accepted: bool = True,
    reason: str | None = None,
    device: Any = None,
    source: str = PunchSource.DEVICE,
    photo_key: str | None = None,
    punch_id: str | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> Punch:
    """Store one punch for a member (its local date: the moment's day in ``tz``, the project's
    zone, as the punch pipeline files it)."""
    return await Punch.create(
        project_id=member.project_id,
        member=member,
        person_id=member.person_id,
        device=device,
        device_punch_id=punch_id or f"{uid('t')}-{next(_seq)}",
        time=when.astimezone(dt.UTC),
        local_date=local_day(when, tz),
        direction=direction,
        liveness=accepted or reason != "no_liveness",
        photo_key=photo_key,
        source=source,
        status=PunchStatus.ACCEPTED if accepted else PunchStatus.REJECTED,
        reason=None if accepted else (reason or "no_liveness"),
    )

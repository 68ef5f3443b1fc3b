"""Attendance screens (打卡统计, 出勤时长统计, punch diagnosis, month calendar): query models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from realname.contract import INT_MAX, PageQuery, Query
from services.schemas.labour import Day
from services.schemas.miniapp import PunchView

MONTH = r"^\d{4}-\d{1,2}$"
# an empty filter field (the console sends "" for "all") means no filter
OptId = Annotated[
    Annotated[int, Field(ge=1, le=INT_MAX)] | None,
    BeforeValidator(lambda v: None if isinstance(v, str) and not v.strip() else v),
]


class StatsQuery(PageQuery):
    """打卡统计 / 出勤时长统计 filters; ``format=xlsx`` exports the whole filtered month."""

    month: str = Field("", pattern=rf"{MONTH}|^$", title="考勤月份（YYYY-MM）")
    format: Literal["", "json", "xlsx"] = Field("", title="导出格式")
    person_type: Literal["", "labour", "management"] = Field("", title="人员类型")
    work_status: Literal["", "active", "left"] = Field("", title="工作状态")
    unit: OptId = Field(None, title="所属单位")
    team: OptId = Field(None, title="班组")
    q: str = Field("", max_length=64, title="姓名/身份证号")


class DayQuery(Query):
    """One day of a member's punches."""

    date: Day = Field(title="日期")


class MonthQuery(Query):
    """One month of a member's calendar."""

    month: str = Field(pattern=MONTH, title="考勤月份（YYYY-MM）")


class StatsDay(BaseModel):
    """One day of a member's month: normal ✓ green, abnormal/today ✓ grey, absent X; a day
    still to come (``future``, after the project's today) is left blank, not X."""

    day: int
    date: str
    state: Literal["normal", "abnormal", "today", "absent"]
    future: bool = Field(False, title="尚未到来（项目所在地日期之后，显示为空白）")
    hours: float | None = Field(None, title="出勤时长（小时，仅出勤时长统计）")


class StatsRow(BaseModel):
    """One member's row of 打卡统计 / 出勤时长统计 (ID number and phone masked without VIEW_PII)."""

    index: int
    member_id: int
    unit_id: int
    unit_name: str
    team_id: int | None
    team_name: str
    person_type: str
    person_type_label: str
    work_type_or_post: str
    work_status: str
    work_status_label: str
    name: str
    id_number: str
    phone: str
    days: list[StatsDay]
    attendance_days: int = Field(title="出勤天数")
    effective_days: int = Field(title="有效出勤天数")
    effective_hours: float | None = Field(None, title="有效出勤时长（仅出勤时长统计）")


class StatsPage(BaseModel):
    """A page of the month grid: one row per member, a cell per day."""

    data: list[StatsRow]
    total: int
    month: str


class DayPunches(BaseModel):
    """Punch diagnosis (打卡诊断): a member's day as settled, with every punch received."""

    member_id: int
    date: dt.date
    state: Literal["normal", "abnormal", "today", "absent"]
    state_label: str
    first_in: dt.datetime | None = Field(title="首次进场")
    last_out: dt.datetime | None = Field(title="最后出场")
    hours: float = Field(title="出勤时长（小时）")
    accepted_count: int = Field(title="有效打卡次数")
    rejected_count: int = Field(title="无效打卡次数")
    punches: list[PunchView]

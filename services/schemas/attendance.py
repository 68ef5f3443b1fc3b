"""Attendance screens (打卡统计, 出勤时长统计, punch diagnosis, month calendar): query models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from realname.contract import INT_MAX, PageQuery, Query

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

    date: dt.date = Field(ge=dt.date(2000, 1, 1), le=dt.date(2099, 12, 31), title="日期")


class MonthQuery(Query):
    """One month of a member's calendar."""

    month: str = Field(pattern=MONTH, title="考勤月份（YYYY-MM）")


class StatsPage(BaseModel):
    """A page of the month grid: one row per member, a cell per day (columns by day number)."""

    data: list[dict[str, Any]]
    total: int
    month: str


class Loose(BaseModel):
    """A reply whose keys follow the screen (per-day cells, per-unit counts)."""

    model_config = {"extra": "allow"}

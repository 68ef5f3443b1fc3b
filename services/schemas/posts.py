"""Post personnel (岗位人员管理) and duty records (履职): request models.

Category and kind stay text checked by the service (codes ``invalid_category`` / ``invalid_kind``
name the field); their choices are documented here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic.json_schema import JsonDict

from realname.contract import INT_MAX, Body, PageQuery, Query
from services.schemas.labour import Date, UnitBrief
from services.schemas.miniapp import FileRef

CATEGORY: JsonDict = {"enum": ["supervision", "gc", "sub"]}
DUTY_KIND: JsonDict = {"enum": ["supervision_meeting", "pm_duty"]}
# an empty form field (the console sends "" for "not chosen") is not chosen
OptId = Annotated[
    Annotated[int, Field(ge=1, le=INT_MAX)] | None,
    BeforeValidator(lambda v: None if isinstance(v, str) and not v.strip() else v),
]


class PostsQuery(PageQuery):
    """One tab of post personnel."""

    category: str = Field("", max_length=16, title="人员类别", json_schema_extra=CATEGORY)
    work_status: Literal["", "active", "left"] = Field("", title="工作状态")


class PostAdd(Body):
    """添加人员: an enrolled person as post personnel of a unit."""

    category: str = Field("", max_length=16, title="人员类别", json_schema_extra=CATEGORY)
    post: str = Field("", max_length=32, title="岗位")
    unit_id: OptId = Field(None, title="所属单位")
    id_number: str = Field("", max_length=32, title="身份证号")
    entry_date: Date = Field(None, title="进场日期")


class PostChange(Body):
    """Change the post."""

    post: str = Field("", max_length=32, title="岗位")


class PostExit(Body):
    """离职 (exit date, default today)."""

    exit_date: Date = Field(None, title="离职日期")


class DutyQuery(PageQuery):
    """Duty records of one kind."""

    kind: str = Field("", max_length=24, title="履职类型", json_schema_extra=DUTY_KIND)


class HostsQuery(Query):
    """Who may host a duty record of this kind."""

    kind: str = Field("", max_length=24, title="履职类型", json_schema_extra=DUTY_KIND)


class DutyCreate(Body):
    """登记 a duty record (multipart with its ``file``)."""

    kind: str = Field("", max_length=24, title="履职类型", json_schema_extra=DUTY_KIND)
    duty_date: Date = Field(None, title="履职日期")
    host_member_id: OptId = Field(None, title="主持人/项目负责人")
    content: str = Field("", max_length=2000, title="履职内容")


class PostChoice(BaseModel):
    code: str
    label: str


class PostCategory(BaseModel):
    """A tab (监理单位 / 总包单位 / 分包单位) and the posts it offers."""

    category: str
    label: str
    posts: list[PostChoice]


class PostOptions(BaseModel):
    categories: list[PostCategory]
    units: list[UnitBrief]


class DutyRecordPublic(BaseModel):
    """A duty-record row: 序号, 日期, 主持人/项目负责人, 内容, 签到表/附件, 登记人, 登记时间."""

    seq: int | None
    id: int
    kind: Literal["supervision_meeting", "pm_duty"]
    kind_label: str
    duty_date: dt.date
    host_member_id: int
    host_name: str
    host_post: str | None
    content: str
    file: FileRef | None = Field(title="签到表/附件")
    registered_by: str
    registered_at: dt.datetime


class DutyHost(BaseModel):
    """Who may host a duty record (主持人 / 项目负责人)."""

    member_id: int
    name: str
    post: str | None
    post_label: str

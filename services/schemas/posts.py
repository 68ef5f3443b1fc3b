"""Post personnel (岗位人员管理) and duty records (履职): request models.

Category and kind stay text checked by the service (codes ``invalid_category`` / ``invalid_kind``
name the field); their choices are documented here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import JsonDict

from realname.contract import INT_MAX, Body, PageQuery, Query
from services.schemas.labour import Date

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


class Loose(BaseModel):
    """A reply shaped by the screen."""

    model_config = ConfigDict(extra="allow")


class PostOptions(BaseModel):
    categories: list[dict[str, Any]]
    units: list[dict[str, Any]]

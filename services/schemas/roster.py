"""Project roster (项目花名册): query and reply models.

The filters stay text checked by ``services.roster.RosterFilter`` (its messages name the field);
lengths are bounded here and the choices documented.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict

from realname.contract import PageQuery, Query
from services.schemas.labour import MemberPublic

GENDER: JsonDict = {"enum": ["", "男", "女"]}
PERSON_TYPE: JsonDict = {"enum": ["", "labour", "management"]}
WORK_STATUS: JsonDict = {"enum": ["", "active", "left"]}


class RosterFilters(Query):
    """The roster's filters (the export takes these)."""

    name: str = Field("", max_length=64, title="姓名")
    id_number: str = Field("", max_length=32, title="身份证号")
    entry_from: str = Field("", max_length=32, title="入职开始日期（YYYY-MM-DD）")
    entry_to: str = Field("", max_length=32, title="入职结束日期（YYYY-MM-DD）")
    gender: str = Field("", max_length=4, title="性别", json_schema_extra=GENDER)
    person_type: str = Field("", max_length=16, title="人员类型", json_schema_extra=PERSON_TYPE)
    work_status: str = Field("", max_length=16, title="工作状态", json_schema_extra=WORK_STATUS)

    def args(self) -> dict[str, Any]:
        """The filters as ``RosterFilter.from_args`` reads them."""
        return {k: getattr(self, k) for k in RosterFilters.model_fields}


class RosterQuery(RosterFilters, PageQuery):
    """The roster list: filters and paging."""


class RosterRow(MemberPublic):
    """A roster row: the member, its 序号 and whether the face photo is missing."""

    face_missing: bool


class RosterPage(BaseModel):
    """A roster page (rows in the manual's columns, plus the filtered set's missing-photo count)."""

    data: list[RosterRow]
    total: int
    missing_face_count: int = Field(title="缺少人脸照片的人数")
    notice: str = Field(title="缺少人脸照片时的提示（否则为空）")


class PushReply(BaseModel):
    devices: int
    command_ids: list[int]
    message: str


class FaceSyncReply(BaseModel):
    devices: int
    command_ids: list[int]

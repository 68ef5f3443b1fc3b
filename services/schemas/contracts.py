"""Contracts (合同管理): request and reply models."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.contracts import TERMINATION_TYPES
from realname.contract import INT_MAX, Body, PageQuery
from services.schemas.labour import ContractHead, Date, MemberPublic
from services.schemas.miniapp import FileRef


class UnsignedQuery(PageQuery):
    """未签约 filters."""

    q: str = Field("", max_length=64, title="姓名/身份证号")
    warning: Literal["", "yellow", "orange", "red"] = Field("", title="预警级别")


class ContractsQuery(PageQuery):
    """履约中 / 已解约 filters."""

    status: Literal["active", "terminated"] = Field("active", title="合同状态")
    q: str = Field("", max_length=64, title="姓名/身份证号/合同编号")
    termination_type: Literal["", "甲方解约", "乙方解约", "协商解约", "合同到期", "其他"] = Field(
        "", title="解约类型"
    )


class ContractCreate(Body):
    """上传: a member's contract (multipart with the ``attachment`` file, or JSON)."""

    member_id: int = Field(ge=1, le=INT_MAX, title="人员")
    number: str = Field(min_length=1, max_length=64, title="合同编号")
    party_a: str = Field(min_length=1, max_length=128, title="甲方")
    start_date: Date = Field(None, title="合同开始日期")
    end_date: Date = Field(None, title="合同截止日期")


class ContractUpdate(Body):
    """编辑: only the fields sent change (``end_date`` empty: open-ended)."""

    number: str | None = Field(None, min_length=1, max_length=64, title="合同编号")
    party_a: str | None = Field(None, min_length=1, max_length=128, title="甲方")
    start_date: Date = Field(None, title="合同开始日期")
    end_date: Date = Field(None, title="合同截止日期")


class ContractTerminate(Body):
    """解约."""

    # checked by the service (code invalid_termination_type); the choices documented here
    termination_type: str = Field(
        max_length=16, title="解约类型", json_schema_extra={"enum": list(TERMINATION_TYPES)}
    )
    termination_reason: str = Field(min_length=1, max_length=255, title="解约原因")
    initiated_at: str | None = Field(None, max_length=32, title="发起解约时间")
    confirmed_at: str | None = Field(None, max_length=32, title="确认解约时间")


class ContractPublic(ContractHead):
    """A contract row: 合同编号, 姓名, 身份证号, 手机号, 甲方, dates, 解约 fields, 附件."""

    model_config = ConfigDict(extra="allow")

    seq: int | None = None
    party_a: str
    start_date: dt.date | None
    end_date: dt.date | None
    status: str
    status_label: str
    termination_type: str | None = None
    termination_reason: str | None = None
    termination_initiated_at: dt.datetime | None = None
    termination_confirmed_at: dt.datetime | None = None
    attachment: FileRef | None = Field(None, title="合同附件")
    uploaded_at: dt.datetime | None = None


class ContractPage(BaseModel):
    data: list[ContractPublic]
    total: int
    termination_types: list[str]


class WarningCounts(BaseModel):
    counts: dict[str, int]
    labels: dict[str, str]


class UnsignedRow(MemberPublic):
    """An 未签约 row: the labour member with its contract warning (黄色/橙色/红色预警)."""

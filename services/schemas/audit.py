"""操作日志 (a project's audit log): query and reply models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from realname.contract import PageQuery, Query
from services.schemas.projectinfo import Date


class AuditExportQuery(Query):
    """操作日志 filters: 操作 (comma-separated), 人员 (name or ID number), 日期范围."""

    action: str = Field("", max_length=512, title="操作")
    person: str = Field("", max_length=64, title="人员（姓名或身份证号）")
    date_from: Date = Field(None, title="开始日期")
    date_to: Date = Field(None, title="结束日期")

    def filter_args(self) -> dict[str, Any]:
        """The filters as `services.audit_view.AuditFilter.from_args` reads them."""
        return self.model_dump(mode="json", exclude={"page", "page_size"})


class AuditQuery(AuditExportQuery, PageQuery):
    """操作日志 list: the filters and a page (20 rows by default)."""

    page_size: int = Field(20, ge=1, le=500, title="每页条数")


class AuditEntry(BaseModel):
    """One entry: 操作人, 身份, 操作, 操作对象, 是否脱敏, 时间, IP."""

    id: int
    at: dt.datetime
    actor_kind: str
    actor_role: str
    actor_name: str
    action: str
    action_label: str
    target: str
    target_label: str
    masked: bool | None
    masked_label: str
    ip: str
    detail: dict[str, Any]

"""Sign-in and binding (登录, 实名绑定确认): request and reply models of the admin console."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from realname.contract import Body, Query


class BindingRequestQuery(Query):
    """Binding requests by state (default those waiting; ``all`` for every one)."""

    status: Literal["pending", "approved", "rejected", "cancelled", "all"] = Field(
        "pending", title="状态"
    )


class BindingDecision(Body):
    """The officer's note (the reason is required when rejecting)."""

    note: str = Field("", max_length=200, title="备注")


class BindingRequestView(BaseModel):
    """A binding request: 状态, 申请原因, 处理意见, 申请时间, 处理时间."""

    id: int
    status: str
    status_label: str
    reason: str | None
    decision_note: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class BindingPerson(BaseModel):
    name: str
    id_number_masked: str
    enrolled_phone_masked: str


class BindingRequestRow(BindingRequestView):
    """A request with the enrolled person (masked) and the WeChat phone (masked)."""

    person: BindingPerson
    wechat_phone_masked: str | None

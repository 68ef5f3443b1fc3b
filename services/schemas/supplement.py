"""考勤补录 (supplementary attendance) on the admin side: request models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from realname.contract import INT_MAX, Body, PageQuery
from services.schemas.labour import Day

TIME = r"^([01]?\d|2[0-3]):([0-5]\d)(:([0-5]\d))?$"


class SupplementCreate(Body):
    """File a request (multipart with ``evidence`` files, or JSON without)."""

    member_id: int = Field(ge=1, le=INT_MAX, title="补录人员")
    date: Day = Field(title="补录日期")
    in_time: str | None = Field(None, pattern=TIME, title="进场时间（HH:MM）")
    out_time: str | None = Field(None, pattern=TIME, title="出场时间（HH:MM）")
    reason: str = Field(min_length=1, max_length=500, title="补录原因")

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        """A form field sent empty counts as not filled in (so a missing one is ``required``)."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class SupplementQuery(PageQuery):
    """The request list: ``scope`` all | mine (filed by me) | queue (waiting for me)."""

    scope: Literal["all", "mine", "queue"] = Field("all", title="范围")
    state: Literal["", "pending", "approved", "rejected"] = Field("", title="审批状态")


class SupplementDecision(Body):
    """The current node's decision; a rejection needs a comment."""

    approve: bool = Field(title="通过/驳回")
    comment: str = Field("", max_length=500, title="审批意见")

"""Announcements (通知公告) published by regulators and operators to the projects of a region."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref


class Announcement(Model):
    """A notice; projects whose region lies within `region` see it (no region: every project)."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    content = fields.TextField()
    region = optional_ref("Region", "announcements")
    region_id: str | None
    publisher_kind = fields.CharField(max_length=16)  # regulator | operator
    publisher_account_id = fields.IntField()
    publisher_name = fields.CharField(max_length=128, default="")
    published_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    withdrawn_at = fields.DatetimeField(null=True)  # 撤回: hidden from projects, kept

    class Meta:
        table = "announcement"

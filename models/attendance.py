"""Punches (打卡记录) and the settled day per member (daily attendance)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref, ref


class Direction(StrEnum):
    IN = "in"  # 进场
    OUT = "out"  # 出场


class PunchSource(StrEnum):
    DEVICE = "device"
    MOBILE = "mobile"
    SUPPLEMENT = "supplement"


class PunchStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Punch(Model):
    """Every punch received, accepted or rejected (kept with its reason for diagnosis).

    ``(device, device_punch_id)`` is unique: the same punch sent again is a duplicate, never a
    second row. Supplementary punches have no device and use ``supplement:<request id>:<dir>``.
    """

    id = fields.BigIntField(primary_key=True)
    project = optional_ref("Project", "punches")
    project_id: int | None
    member = optional_ref("ProjectMember", "punches")
    member_id: int | None
    person = optional_ref("Person", "punches")
    person_id: int | None
    device = optional_ref("Device", "punches")
    device_id: int | None
    device_punch_id = fields.CharField(max_length=96)
    time = fields.DatetimeField()  # the moment of the punch (aware, stored UTC)
    local_date = fields.DateField(null=True)  # the project-local day it belongs to
    direction = fields.CharEnumField(Direction, max_length=4)
    liveness = fields.BooleanField(default=False)
    photo_key = fields.CharField(max_length=255, null=True)
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    source = fields.CharEnumField(PunchSource, max_length=16, default=PunchSource.DEVICE)
    status = fields.CharEnumField(PunchStatus, max_length=8)
    reason = fields.CharField(max_length=32, null=True)
    received_at = fields.DatetimeField(auto_now_add=True)
    # the punch as received, for diagnosis
    payload: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)

    class Meta:
        table = "punch"
        unique_together = (("device", "device_punch_id"),)
        # (project, local_date): month scans for settlement and the workbench summary.
        indexes = (("member", "local_date"), ("project", "local_date"))


class DayState(StrEnum):
    NORMAL = "normal"  # green ✓
    ABNORMAL = "abnormal"  # grey ✓ (broken pattern)
    TODAY = "today"  # grey ✓ (not yet settled)
    ABSENT = "absent"  # X


class DailyAttendance(Model):
    """A member's settled day: first in, last out, duration and state (rules 1–2)."""

    id = fields.BigIntField(primary_key=True)
    project = ref("Project", "days")
    project_id: int
    member = ref("ProjectMember", "days")
    member_id: int
    day = fields.DateField()
    first_in = fields.DatetimeField(null=True)
    last_out = fields.DatetimeField(null=True)
    duration_seconds = fields.IntField(default=0)
    state = fields.CharEnumField(DayState, max_length=8)
    punch_count = fields.IntField(default=0)
    settled_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "daily_attendance"
        unique_together = (("member", "day"),)
        indexes = (("project", "day"),)

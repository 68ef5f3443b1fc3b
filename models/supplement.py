"""Supplementary attendance requests (考勤补录) and their approval steps (rule 7)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models._fields import ref
from models._labels import LabelledEnum, labels


class SupplementState(LabelledEnum):
    PENDING = "pending", "审批中"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "已驳回"


SUPPLEMENT_STATE_LABELS = labels(SupplementState)


class SupplementRequest(Model):
    """A request to add a labour member's missing punches for one day.

    ``chain`` is fixed when filed (three nodes, or two without a supervision unit); ``step`` is the
    index of the node now deciding.
    """

    id = fields.IntField(primary_key=True)
    project = ref("Project", "supplements")
    project_id: int
    member = ref("ProjectMember", "supplements")
    member_id: int
    day = fields.DateField()
    in_time = fields.DatetimeField(null=True)
    out_time = fields.DatetimeField(null=True)
    reason = fields.TextField()
    evidence: fields.JSONField[list[int]] = fields.JSONField(default=list)  # StoredFile ids
    chain: fields.JSONField[list[str]] = fields.JSONField()  # node codes, in order
    step = fields.IntField(default=0)
    state = fields.CharEnumField(SupplementState, max_length=10, default=SupplementState.PENDING)
    requester_kind = fields.CharField(max_length=16)
    requester_id = fields.CharField(max_length=32)
    requester_name = fields.CharField(max_length=128, default="")
    requester_unit_ids: fields.JSONField[list[int]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "supplement_request"
        indexes = (("project", "state"), ("member", "day"))


class SupplementStep(Model):
    """One decision of a node on a request (the history the requester sees)."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[SupplementRequest] = ref(
        "SupplementRequest", "steps", on_delete=fields.CASCADE
    )
    request_id: int
    node = fields.CharField(max_length=32)
    approve = fields.BooleanField()
    comment = fields.TextField(default="")
    actor_kind = fields.CharField(max_length=16)
    actor_id = fields.CharField(max_length=32)
    actor_name = fields.CharField(max_length=128, default="")
    decided_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supplement_step"
        unique_together = (("request", "node"),)

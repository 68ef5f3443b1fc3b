"""Project status change requests (项目状态变更申请) and their regulator review steps (rule 8)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models._fields import ref
from models._labels import LabelledEnum, labels


class RequestState(LabelledEnum):
    PENDING = "pending", "审核中"
    APPROVED = "approved", "审核通过"
    REJECTED = "rejected", "审核不通过"
    WITHDRAWN = "withdrawn", "已撤回"


REQUEST_STATE_LABELS = labels(RequestState)


class StepState(LabelledEnum):
    WAITING = "waiting", "待审核"  # a later step, not yet its turn
    PENDING = "pending", "审核中"  # the current step
    APPROVED = "approved", "通过"
    REJECTED = "rejected", "不通过"
    CANCELLED = "cancelled", "未审核"  # never reached (an earlier step rejected, or withdrawn)


STEP_STATE_LABELS = labels(StepState)


class StatusChangeRequest(Model):
    """A request to change a project's status, reviewed by the regulators of rule 8's chain."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "status_changes")
    project_id: int
    from_status = fields.CharField(max_length=16)  # 变更前状态
    to_status = fields.CharField(max_length=16)  # 变更状态
    reason = fields.TextField()
    state = fields.CharEnumField(RequestState, max_length=12, default=RequestState.PENDING)
    # StoredFile ids of the supporting files
    file_ids: fields.JSONField[list[int]] = fields.JSONField(default=list)
    # Set to the project id while the request is open: the unique index allows one open request
    # per project even under concurrent applications.
    open_project_id = fields.IntField(null=True, unique=True)
    initiator_name = fields.CharField(max_length=128, default="")  # 发起人
    initiator_actor = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)  # 发起时间
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "status_change_request"


class StatusReviewStep(Model):
    """One regulator review of a request: the region and level that must decide it."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[StatusChangeRequest] = ref("StatusChangeRequest", "steps")
    request_id: int
    seq = fields.SmallIntField()  # 1 = first review
    level = fields.CharField(max_length=8)  # county | city | province
    final = fields.BooleanField(default=False)  # 终审
    region = ref("Region", "status_reviews")
    region_id: str
    state = fields.CharEnumField(StepState, max_length=10, default=StepState.WAITING)
    reviewer_account_id = fields.IntField(null=True)
    reviewer_name = fields.CharField(max_length=128, default="")
    notes = fields.TextField(default="")  # 审核意见
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "status_review_step"
        unique_together = (("request", "seq"),)
        indexes = (("region", "state"),)

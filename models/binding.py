"""Real-name binding of WeChat accounts to enrolled persons (实名绑定).

`WeChatBinding` is the one-to-one link (unique on both sides, so the database itself refuses a
second account for a person or a second person for an account); ``Account.person`` mirrors it for
the identity service. `BindingRequest` is a binding whose WeChat phone did not match the enrolled
phone: it waits for a labour officer of one of the person's projects to approve or reject it.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class BindingMethod(StrEnum):
    """How a binding was confirmed."""

    PHONE = "phone"  # the WeChat-verified phone matched the enrolled phone
    OFFICER = "officer"  # confirmed by the project's labour officer


class WeChatBinding(Model):
    """One WeChat account ↔ one person."""

    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation = fields.OneToOneField(
        "models.Account", related_name="binding", on_delete=fields.RESTRICT
    )
    account_id: int
    person: fields.OneToOneRelation = fields.OneToOneField(
        "models.Person", related_name="wechat_binding", on_delete=fields.RESTRICT
    )
    person_id: int
    method = fields.CharEnumField(BindingMethod, max_length=16)
    request: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.BindingRequest", related_name="bindings", null=True, on_delete=fields.SET_NULL
    )
    request_id: int | None
    bound_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "wechat_binding"


class BindingRequestStatus(StrEnum):
    """The states of a binding request."""

    PENDING = "pending"  # 待确认
    APPROVED = "approved"  # 已确认
    REJECTED = "rejected"  # 已驳回
    CANCELLED = "cancelled"  # 已撤销 (superseded or withdrawn)


BINDING_STATUS_LABELS = {
    BindingRequestStatus.PENDING: "待劳务员确认",
    BindingRequestStatus.APPROVED: "已确认",
    BindingRequestStatus.REJECTED: "已驳回",
    BindingRequestStatus.CANCELLED: "已撤销",
}


class BindingRequest(Model):
    """A binding waiting for a labour officer, because the WeChat phone did not match."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Account", related_name="binding_requests", on_delete=fields.RESTRICT
    )
    account_id: int
    person: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Person", related_name="binding_requests", on_delete=fields.RESTRICT
    )
    person_id: int
    status = fields.CharEnumField(
        BindingRequestStatus, max_length=16, default=BindingRequestStatus.PENDING, db_index=True
    )
    wechat_phone_enc = fields.TextField(null=True)
    wechat_phone_masked = fields.CharField(max_length=16, default="")
    reason = fields.CharField(max_length=32, default="")  # phone_mismatch | no_phone_on_record
    decided_by = fields.CharField(max_length=64, default="")  # actor label
    decision_note = fields.CharField(max_length=200, default="")
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "binding_request"

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

from models._fields import one_to_one, optional_ref, ref
from models._labels import LabelledEnum, labels


class BindingMethod(StrEnum):
    """How a binding was confirmed."""

    PHONE = "phone"  # the WeChat-verified phone matched the enrolled phone
    OFFICER = "officer"  # confirmed by the project's labour officer


class WeChatBinding(Model):
    """One WeChat account ↔ one person."""

    id = fields.IntField(primary_key=True)
    account = one_to_one("Account", "binding")
    account_id: int
    person = one_to_one("Person", "wechat_binding")
    person_id: int
    method = fields.CharEnumField(BindingMethod, max_length=16)
    request = optional_ref("BindingRequest", "bindings", on_delete=fields.SET_NULL)
    request_id: int | None
    bound_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "wechat_binding"


class BindingRequestStatus(LabelledEnum):
    """The states of a binding request."""

    PENDING = "pending", "待劳务员确认"
    APPROVED = "approved", "已确认"
    REJECTED = "rejected", "已驳回"
    CANCELLED = "cancelled", "已撤销"  # superseded or withdrawn


BINDING_STATUS_LABELS = labels(BindingRequestStatus)


class BindingRequest(Model):
    """A binding waiting for a labour officer, because the WeChat phone did not match."""

    id = fields.IntField(primary_key=True)
    account = ref("Account", "binding_requests")
    account_id: int
    person = ref("Person", "binding_requests")
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

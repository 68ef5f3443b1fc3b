"""Labour contracts (劳动合同 / 用工协议) of project members."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref, ref
from models._labels import LabelledEnum, labels


class ContractStatus(LabelledEnum):
    UNSIGNED = "unsigned", "未签约"
    ACTIVE = "active", "履约中"
    TERMINATED = "terminated", "已解约"


TERMINATION_TYPES = ("甲方解约", "乙方解约", "协商解约", "合同到期", "其他")

CONTRACT_STATUS_LABELS = labels(ContractStatus)


class LabourContract(Model):
    """A member's uploaded contract, in force until terminated (or deleted to re-sign)."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "contracts")
    project_id: int
    member = ref("ProjectMember", "contracts")
    member_id: int
    number = fields.CharField(max_length=64)  # 合同编号
    party_a = fields.CharField(max_length=128)  # 甲方
    start_date = fields.DateField()
    end_date = fields.DateField(null=True)
    attachment_key = fields.CharField(max_length=255, null=True)
    attachment_name = fields.CharField(max_length=255, default="")
    # served by GET /projects/{code}/files/{id}
    attachment = optional_ref("StoredFile", "contract_attachments")
    attachment_id: int | None
    status = fields.CharEnumField(ContractStatus, max_length=12, default=ContractStatus.ACTIVE)
    termination_type = fields.CharField(max_length=32, default="")  # 甲方解约 / 乙方解约 / 协商解约
    termination_reason = fields.CharField(max_length=255, default="")
    termination_initiated_at = fields.DatetimeField(null=True)
    termination_confirmed_at = fields.DatetimeField(null=True)
    uploaded_by = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField(auto_now=True)
    uploaded_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)  # 删除重签: kept for the record, hidden

    class Meta:
        table = "labour_contract"
        indexes = (("member", "status"),)

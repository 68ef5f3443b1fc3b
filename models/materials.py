"""Project materials (项目材料管理): monthly reports, their vouchers, wage-account materials."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref, ref
from models._labels import LabelledEnum, labels


class MonthlyReport(Model):
    """A monthly material report (材料月报) of one project for one year-month."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "monthly_reports")
    project_id: int
    year = fields.SmallIntField()
    month = fields.SmallIntField()
    note = fields.CharField(max_length=255, default="")
    registered_by = fields.CharField(max_length=128, default="")  # 登记人 (display name)
    registered_actor = fields.CharField(max_length=64, default="")  # kind:account id
    registered_at = fields.DatetimeField(auto_now_add=True)  # 登记时间

    class Meta:
        table = "monthly_report"
        unique_together = (("project", "year", "month"),)


class VoucherKind(LabelledEnum):
    CONTRACT = "contract", "合同"  # 分包/采购合同
    RECEIPT = "receipt", "工程款收款凭证"
    PAYMENT = "payment", "材料款付款凭证"


VOUCHER_KIND_LABELS = labels(VoucherKind)


class MaterialVoucher(Model):
    """One contract or receipt/payment voucher registered in a monthly report, with its file."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "material_vouchers")
    project_id: int
    report: fields.ForeignKeyRelation[MonthlyReport] = ref("MonthlyReport", "vouchers")
    report_id: int
    kind = fields.CharEnumField(VoucherKind, max_length=16)
    unit = ref("ParticipatingUnit", "material_vouchers")
    unit_id: int
    number = fields.CharField(max_length=64, default="")  # 合同编号 / 凭证号
    counterparty = fields.CharField(max_length=128, default="")  # 付款方 / 收款方 / 合同相对方
    amount = fields.DecimalField(max_digits=16, decimal_places=2)
    occurred_on = fields.DateField()  # 签订 / 收款 / 付款日期
    file = ref("StoredFile", "material_vouchers")
    file_id: int
    registered_by = fields.CharField(max_length=128, default="")
    registered_actor = fields.CharField(max_length=64, default="")
    registered_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)  # kept for the record, hidden

    class Meta:
        table = "material_voucher"
        indexes = (("project", "kind"),)


class WageMaterialKind(LabelledEnum):
    ESCROW_AGREEMENT = "escrow_agreement", "资金托管协议"
    ACCOUNT_OPENING = "account_opening", "农民工工资专户开户单"
    WAGE_DEPOSIT = "wage_deposit", "工资保证金"
    PAYMENT_GUARANTEE = "payment_guarantee", "工程款支付担保"
    GC_PAYROLL_AGREEMENT = "gc_payroll_agreement", "总包代发协议"


WAGE_MATERIAL_LABELS = labels(WageMaterialKind)


class WageAccountMaterial(Model):
    """One registered wage-account material (工资专户材料); `data` holds the kind's fields,
    validated by services.materials against that kind's field list."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "wage_materials")
    project_id: int
    kind = fields.CharEnumField(WageMaterialKind, max_length=24)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    file = optional_ref("StoredFile", "wage_materials")
    file_id: int | None
    registered_by = fields.CharField(max_length=128, default="")  # 登记人
    registered_actor = fields.CharField(max_length=64, default="")
    registered_at = fields.DatetimeField(auto_now_add=True)  # 登记时间
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "wage_account_material"
        indexes = (("project", "kind"),)

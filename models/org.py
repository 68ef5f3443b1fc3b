"""Regions, enterprises, projects and participating units (参建单位)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref, ref
from models._labels import LabelledEnum, labels


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class Region(Model):
    """An administrative division (6-digit code) at province, city/prefecture or county level."""

    code = fields.CharField(max_length=6, primary_key=True)
    name = fields.CharField(max_length=64)
    level = fields.CharEnumField(RegionLevel, max_length=8)
    parent: fields.ForeignKeyNullableRelation[Region] = optional_ref("Region", "children")
    parent_id: str | None

    class Meta:
        table = "region"


class Enterprise(Model):
    """A company (企业), identified by its unified social credit code."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128)
    credit_code = fields.CharField(max_length=18, unique=True)
    region: fields.ForeignKeyNullableRelation[Region] = optional_ref("Region", "enterprises")
    region_id: str | None
    registered_on = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "enterprise"


class ManagingLevel(StrEnum):
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"


class Project(Model):
    """A construction project, synced from construction-permit data."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    type = fields.CharField(max_length=64, default="")
    region: fields.ForeignKeyRelation[Region] = ref("Region", "projects")
    region_id: str
    managing_level = fields.CharEnumField(ManagingLevel, max_length=8, default=ManagingLevel.COUNTY)
    permit_number = fields.CharField(max_length=64, default="", db_index=True)
    permit_authority = fields.CharField(max_length=128, default="")
    cost = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    status = fields.CharField(max_length=16, default="在建")
    timezone = fields.CharField(max_length=64, default="Asia/Shanghai")
    ended_on = fields.DateField(null=True)
    synced_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "project"


class UnitRole(LabelledEnum):
    BUILDER = "builder", "建设单位"
    SUPERVISOR = "supervisor", "监理单位"
    GENERAL_CONTRACTOR = "general_contractor", "施工总承包单位"
    SPECIALTY_SUB = "specialty_subcontractor", "专业分包"
    LABOUR_SUB = "labour_subcontractor", "劳务分包"


UNIT_ROLE_LABELS = labels(UnitRole)


class ParticipatingUnit(Model):
    """An enterprise taking part in a project in a responsibility role (参建单位)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = ref("Project", "units")
    project_id: int
    enterprise: fields.ForeignKeyRelation[Enterprise] = ref("Enterprise", "participations")
    enterprise_id: int
    role = fields.CharEnumField(UnitRole, max_length=32)
    site_lead = fields.CharField(max_length=64, default="")
    site_lead_phone_enc = fields.TextField(null=True)
    site_lead_phone_masked = fields.CharField(max_length=16, default="")
    entry_date = fields.DateField(null=True)
    exit_date = fields.DateField(null=True)
    on_site = fields.BooleanField(default=True)  # 在场 / 退场
    specialty = fields.CharField(max_length=64, default="")  # 承包专业
    contract_file = fields.CharField(max_length=255, null=True)  # 承发包合同 (file-store key)
    contract_registered_at = fields.DatetimeField(null=True)
    synced = fields.BooleanField(default=False)  # came from permit data (not registered by hand)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "participating_unit"
        unique_together = (("project", "enterprise", "role"),)


class KeyPersonnel(Model):
    """Key post personnel named on the construction permit (PM, chief supervising engineer)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = ref("Project", "key_personnel")
    project_id: int
    role = fields.CharField(max_length=32)  # project_manager | chief_supervisor
    name = fields.CharField(max_length=64)
    id_number_enc = fields.TextField()
    id_number_bidx = fields.CharField(max_length=40, db_index=True)
    unit: fields.ForeignKeyNullableRelation[ParticipatingUnit] = optional_ref(
        "ParticipatingUnit", "key_personnel"
    )
    unit_id: int | None
    started_at = fields.DatetimeField(auto_now_add=True)
    # Set when a re-import names someone else for the role: the post has ended (kept, rule 12).
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "key_personnel"
        unique_together = (("project", "role", "id_number_bidx"),)

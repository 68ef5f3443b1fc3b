"""Natural persons (自然人), project members (项目人员) and teams (班组)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref, ref
from models._labels import LabelledEnum, labels


class Person(Model):
    """A natural person as read from the ID card, with the collected face photo.

    ID number, phone and address are personal data: stored encrypted (``*_enc``), found by blind
    index (``*_bidx``), shown masked (``*_masked``, computed once at write time).
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, db_index=True)
    id_number_enc = fields.TextField()
    id_number_bidx = fields.CharField(max_length=40, unique=True)
    id_number_masked = fields.CharField(max_length=24)
    gender = fields.CharField(max_length=2, default="")
    ethnicity = fields.CharField(max_length=16, default="")
    birth_date = fields.DateField(null=True)
    address_enc = fields.TextField(null=True)
    issuer = fields.CharField(max_length=128, default="")
    id_valid_from = fields.DateField(null=True)
    id_valid_to = fields.DateField(null=True)  # null: long-term (长期)
    id_photo_key = fields.CharField(max_length=255, null=True)
    face_key = fields.CharField(max_length=255, null=True)
    face_sha256 = fields.CharField(max_length=64, null=True)
    face_captured_at = fields.DatetimeField(null=True)
    phone_enc = fields.TextField(null=True)
    phone_bidx = fields.CharField(max_length=40, null=True, db_index=True)
    phone_masked = fields.CharField(max_length=16, default="")
    enrolled_at = fields.DatetimeField(null=True)  # collection machine (rule 6)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "person"


class PersonType(LabelledEnum):
    LABOUR = "labour", "劳务人员"
    MANAGEMENT = "management", "管理人员"


PERSON_TYPE_LABELS = labels(PersonType)


class WorkStatus(LabelledEnum):
    ACTIVE = "active", "在职"
    LEFT = "left", "离职"


WORK_STATUS_LABELS = labels(WorkStatus)


class Team(Model):
    """A labour team (班组) of one participating unit on a project."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "teams")
    project_id: int
    unit = ref("ParticipatingUnit", "teams")
    unit_id: int
    name = fields.CharField(max_length=64)
    leader = fields.CharField(max_length=64, default="")
    on_site = fields.BooleanField(default=True)  # 在场 / 退场
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "team"


class ProjectMember(Model):
    """A person on a project (项目人员). Its id is the terminal PIN, stable for life."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "members")
    project_id: int
    person: fields.ForeignKeyRelation[Person] = ref("Person", "memberships")
    person_id: int
    unit = ref("ParticipatingUnit", "members")
    unit_id: int
    team: fields.ForeignKeyNullableRelation[Team] = optional_ref("Team", "members")
    team_id: int | None
    person_type = fields.CharEnumField(PersonType, max_length=16)
    work_type = fields.CharField(max_length=32, default="")  # 工种 (labour)
    post = fields.CharField(max_length=32, default="")  # 岗位 (management)
    work_status = fields.CharEnumField(WorkStatus, max_length=8, default=WorkStatus.ACTIVE)
    entry_date = fields.DateField()
    exit_date = fields.DateField(null=True)
    bank_name = fields.CharField(max_length=64, default="")
    bank_card_enc = fields.TextField(null=True)
    bank_card_masked = fields.CharField(max_length=32, default="")
    bank_branch_code = fields.CharField(max_length=16, default="")  # 联行号
    migrated = fields.BooleanField(default=False)  # synced from the old system, may be incomplete
    sync_version = fields.BigIntField(default=0, db_index=True)  # terminal delta-sync cursor
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "project_member"
        unique_together = (("project", "person"),)


class Post(LabelledEnum):
    """Key posts (岗位) of post personnel; the approval chains refer to these codes."""

    PROJECT_MANAGER = "project_manager", "项目经理"
    DEPUTY_PROJECT_MANAGER = "deputy_project_manager", "项目副经理"
    CHIEF_SUPERVISOR = "chief_supervisor", "总监理工程师"
    DEPUTY_CHIEF_SUPERVISOR = "deputy_chief_supervisor", "总监理工程师代表"  # or 副总监
    SUPERVISOR_ENGINEER = "supervisor_engineer", "专业监理工程师"
    LABOUR_OFFICER = "labour_officer", "劳务员"
    SAFETY_OFFICER = "safety_officer", "安全员"
    TECHNICAL_LEAD = "technical_lead", "技术负责人"
    CONSTRUCTION_OFFICER = "construction_officer", "施工员"
    QUALITY_OFFICER = "quality_officer", "质量员"
    MATERIAL_OFFICER = "material_officer", "材料员"
    DOCUMENT_OFFICER = "document_officer", "资料员"
    MACHINERY_OFFICER = "machinery_officer", "机械员"
    STANDARDS_OFFICER = "standards_officer", "标准员"
    COST_OFFICER = "cost_officer", "造价员"
    SUPERVISION_OFFICER = "supervision_officer", "监理员"
    OTHER = "other", "其他"


POST_LABELS = labels(Post)

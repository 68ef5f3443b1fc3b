"""Post personnel duty records (履职): supervision meetings and project-leader duty."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref, ref
from models._labels import LabelledEnum, labels


class DutyKind(LabelledEnum):
    SUPERVISION_MEETING = "supervision_meeting", "监理履职"  # 监理例会
    PM_DUTY = "pm_duty", "项目负责人履职"


DUTY_KIND_LABELS = labels(DutyKind)


class DutyRecord(Model):
    """One registered duty record of a project's post personnel, with its file."""

    id = fields.IntField(primary_key=True)
    project = ref("Project", "duty_records")
    project_id: int
    kind = fields.CharEnumField(DutyKind, max_length=24)
    duty_date = fields.DateField()  # 会议日期 / 履职日期
    # 主持人 (meeting) / 履职人 (PM duty): a post person of the project
    host = ref("ProjectMember", "duty_records")
    host_id: int
    content = fields.TextField(default="")  # 履职内容 / 会议内容
    file = optional_ref("StoredFile", "duty_records")  # 监理例会签到表 / 履职附件
    file_id: int | None
    registered_by = fields.CharField(max_length=64, default="")  # principal actor label
    registered_by_name = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "duty_record"
        indexes = (("project", "kind", "duty_date"),)

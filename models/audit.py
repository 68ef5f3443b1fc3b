"""The audit log: sign-ins, exports, approvals, unbinding, changes to personal data."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditLog(Model):
    """One audited action. `detail` never holds plaintext personal data."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_kind = fields.CharField(max_length=16, default="")
    actor_id = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=64, db_index=True)
    project: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Project", related_name="audit", null=True, on_delete=fields.RESTRICT
    )
    project_id: int | None
    target = fields.CharField(max_length=128, default="")
    detail: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    ip = fields.CharField(max_length=64, default="")

    class Meta:
        table = "audit_log"

"""The audit log: sign-ins, exports, approvals, unbinding, changes to personal data."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref


class AuditLog(Model):
    """One audited action. `detail` never holds plaintext personal data."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_kind = fields.CharField(max_length=16, default="")
    actor_id = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=64, db_index=True)
    project = optional_ref("Project", "audit")
    project_id: int | None
    target = fields.CharField(max_length=128, default="")
    detail: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    ip = fields.CharField(max_length=64, default="")

    class Meta:
        table = "audit_log"

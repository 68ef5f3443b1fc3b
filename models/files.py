"""Stored files (attachments, photos) and who they belong to."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref


class StoredFile(Model):
    """A file in the file store, owned by a project (or a person) so access can be checked."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)
    name = fields.CharField(max_length=255)  # the uploader's file name
    content_type = fields.CharField(max_length=100)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    project = optional_ref("Project", "files")
    project_id: int | None
    purpose = fields.CharField(max_length=32)  # contract, duty, material, evidence, face ...
    uploaded_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stored_file"

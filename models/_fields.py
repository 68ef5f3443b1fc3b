"""Relation fields as the models declare them (a helper module: Tortoise loads no ``_`` module).

Every foreign key of the schema points at a model of this app and, unless it says otherwise,
``RESTRICT``s the deletion of the row it points at: records are kept, never cascaded away.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.fields.base import OnDelete


def ref(
    to: str, related_name: str, *, on_delete: OnDelete = fields.RESTRICT
) -> fields.ForeignKeyRelation[Any]:
    """A required foreign key to ``models.<to>``."""
    return fields.ForeignKeyField(f"models.{to}", related_name=related_name, on_delete=on_delete)


def optional_ref(
    to: str, related_name: str, *, on_delete: OnDelete = fields.RESTRICT
) -> fields.ForeignKeyNullableRelation[Any]:
    """A nullable foreign key to ``models.<to>``."""
    return fields.ForeignKeyField(
        f"models.{to}", related_name=related_name, null=True, on_delete=on_delete
    )


def one_to_one(to: str, related_name: str) -> fields.OneToOneRelation[Any]:
    """A required one-to-one key to ``models.<to>`` (unique), restricting deletion."""
    return fields.OneToOneField(
        f"models.{to}", related_name=related_name, on_delete=fields.RESTRICT
    )

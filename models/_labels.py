"""Enums whose members carry their Chinese label (a helper module: Tortoise loads no ``_`` module).

A member is declared once, value and label together (``PENDING = "pending", "审核中"``); the
``*_LABELS`` mapping the services look labels up in is built from the enum, so the two cannot
drift apart. The value stays a plain string: the database, the JSON and the column description
Tortoise derives (``PENDING: pending``) see only it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self, TypeVar


class LabelledEnum(StrEnum):
    """A ``StrEnum`` whose members are declared as ``NAME = value, label``."""

    _value_: str
    label: str

    # ``label`` is optional only for the type checker, which reads ``Enum(value)`` (a lookup by
    # value, which never calls this) as a call of ``__new__``; a member declared without one fails.
    def __new__(cls, value: str, label: str | None = None) -> Self:
        if label is None:
            raise TypeError(f"{cls.__name__} member {value!r} has no label")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


E = TypeVar("E", bound=LabelledEnum)


def labels(enum: type[E]) -> dict[E, str]:
    """Each member of ``enum`` with its label, in declaration order."""
    return {member: member.label for member in enum}

"""What the list endpoints share: a page of a query, the 序号 of its rows, a filter by state."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from realname import error_codes as E
from realname.errors import ValidationError

M = TypeVar("M", bound=Model)
T = TypeVar("T")


def paged(query: QuerySet[M], page: int, size: int, *order: str) -> QuerySet[M]:
    """Page ``page`` (from 1) of ``size`` rows of ``query``, in ``order``."""
    return query.order_by(*order).offset((page - 1) * size).limit(size)


def numbered(rows: Iterable[T], page: int, size: int) -> Iterator[tuple[int, T]]:
    """The rows of page ``page`` with their 序号, counted across pages from 1."""
    return enumerate(rows, start=(page - 1) * size + 1)


def filter_choice(
    query: QuerySet[M], field: str, value: str | None, choices: type[StrEnum], label: str
) -> QuerySet[M]:
    """``query`` narrowed to ``field == value`` when a value is given; one that is not a value of
    ``choices`` is refused as 「<label>取值无效」."""
    if not value:
        return query
    if value not in {c.value for c in choices}:
        raise ValidationError(f"{label}取值无效", code=E.INVALID_CHOICE.code, field=field)
    return query.filter(**{field: value})

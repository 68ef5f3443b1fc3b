"""Dates of labour records: the dates a project can refer to (today: localtime.project_today)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from realname import error_codes as E
from realname.errors import ValidationError

DATE_MIN, DATE_MAX = dt.date(1970, 1, 1), dt.date(2099, 12, 31)  # dates a project can refer to


def parse_date(value: Any, field: str, label: str, required: bool = True) -> dt.date | None:
    """A date from ``YYYY-MM-DD`` (or a date/datetime object), or a ValidationError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"请填写{label}", code=E.REQUIRED.code, field=field)
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError as exc:
            raise ValidationError(
                f"{label}格式错误，应为 YYYY-MM-DD", code=E.INVALID_DATE.code, field=field
            ) from exc
    if not DATE_MIN <= day <= DATE_MAX:  # years 0001 / 9999 would overflow time-zone arithmetic
        raise ValidationError(
            f"{label}超出范围（{DATE_MIN.year}–{DATE_MAX.year}年）",
            code=E.INVALID_DATE.code,
            field=field,
        )
    return day

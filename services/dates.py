"""The one parser of dates that reach a service outside a pydantic schema (form fields, Excel cells,
ID-card readers, query arguments): every service calls ``parse_date``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from realname import error_codes as E
from realname.errors import ValidationError

# dates a record can refer to: a birth date (pii.py refuses births before 1900) up to the columns'
# sane end; years 0001 / 9999 would overflow time-zone arithmetic
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2099, 12, 31)
LONG_TERM = ("长期", "long_term")  # an ID card valid for life (有效期止)


def parse_date(
    value: Any,
    field: str,
    label: str,
    *,
    required: bool = True,
    allow_long_term: bool = False,
    prompt: str = "请填写",
) -> dt.date | None:
    """A date from a date/datetime, ``YYYY-MM-DD`` (``YYYYMMDD``, ``YYYY.MM.DD``, ``YYYY/MM/DD``,
    anything after the tenth character ignored), or ``长期`` → None when ``allow_long_term``.

    Empty is None, or ``{prompt}{label}`` (REQUIRED) when ``required`` (forms whose dates are
    picked say 请选择); a malformed or out-of-range date is INVALID_DATE naming ``field``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"{prompt}{label}", code=E.REQUIRED.code, field=field)
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        if allow_long_term and text in LONG_TERM:
            return None
        try:
            day = dt.date.fromisoformat(re.sub(r"[./]", "-", text[:10]))
        except ValueError as exc:
            raise ValidationError(
                f"{label}格式错误，应为 YYYY-MM-DD", code=E.INVALID_DATE.code, field=field
            ) from exc
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(
            f"{label}超出范围（{DATE_MIN.year}–{DATE_MAX.year}年）",
            code=E.INVALID_DATE.code,
            field=field,
        )
    return day

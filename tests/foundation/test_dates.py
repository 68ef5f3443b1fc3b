"""The one date parser of the services (`services.dates.parse_date`): what the form fields, Excel
cells, ID-card readers and query arguments send, and the errors naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from realname import error_codes as E
from realname.errors import ValidationError
from services.dates import parse_date

DAY = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "value",
    [
        DAY,
        dt.datetime(2024, 3, 5, 8, 30),
        "2024-03-05",
        " 2024-03-05 ",
        "20240305",
        "2024.03.05",
        "2024/03/05",
        "2024-03-05T08:30:00+08:00",
        "2024-03-05 08:30:00",
    ],
)
def test_every_shape_a_caller_sends(value):
    assert parse_date(value, "day", "日期") == DAY


def test_empty_is_none_or_required_with_the_callers_prompt():
    assert parse_date("  ", "day", "日期", required=False) is None
    assert parse_date(None, "day", "日期", required=False) is None
    with pytest.raises(ValidationError) as err:
        parse_date("", "entry_date", "进场日期")
    assert (err.value.code, err.value.field, err.value.message) == (
        E.REQUIRED.code,
        "entry_date",
        "请填写进场日期",
    )
    with pytest.raises(ValidationError) as err:
        parse_date(None, "exit_date", "出场日期", prompt="请选择")
    assert err.value.message == "请选择出场日期"


def test_long_term_only_where_allowed():
    assert parse_date("长期", "valid_to", "有效期止", allow_long_term=True) is None
    with pytest.raises(ValidationError) as err:
        parse_date("长期", "valid_to", "有效期止")
    assert (err.value.code, err.value.field) == (E.INVALID_DATE.code, "valid_to")


@pytest.mark.parametrize(
    "value",
    [
        "2024-13-01",
        "x",
        "0001-01-01",
        "9999-12-31",
        "1899-12-31",
        "2100-01-01",
        dt.date(1, 1, 1),
        dt.datetime(9999, 12, 31),
    ],
)
def test_malformed_or_out_of_range_is_invalid_date_naming_the_field(value):
    with pytest.raises(ValidationError) as err:
        parse_date(value, "units[0].entry_date", "进场日期")
    assert (err.value.code, err.value.field) == (E.INVALID_DATE.code, "units[0].entry_date")


def test_the_range_ends():
    assert parse_date("1900-01-01", "birth_date", "出生日期") == dt.date(1900, 1, 1)
    assert parse_date("2099-12-31", "day", "日期") == dt.date(2099, 12, 31)

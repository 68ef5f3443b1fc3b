"""The one date type of the request schemas (`services.schemas.labour.Date`)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, Field, ValidationError

from services.schemas.labour import Date


class Form(BaseModel):
    day: Date = Field(None, title="日期")


def test_empty_means_not_given_and_the_range_is_a_validation_error():
    assert Form.model_validate({"day": ""}).day is None
    assert Form.model_validate({"day": "  "}).day is None
    assert Form.model_validate({}).day is None
    assert Form.model_validate({"day": None}).day is None
    assert Form.model_validate({"day": "2026-11-30"}).day == dt.date(2026, 11, 30)
    for bad in ("0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01", "2026-13-01", "x"):
        with pytest.raises(ValidationError):  # a 422, never a TypeError (500)
            Form.model_validate({"day": bad})


async def test_empty_form_date_is_a_clear_422_not_a_500(client, redis):
    from tests.factories import auth, enterprise_token, make_project

    world = await make_project()
    h = auth(await enterprise_token(redis, world.enterprises["gc"]))
    url = f"/admin/v1/projects/{world.project.code}/units"
    r = await client.post(url, data={"name": "某劳务公司", "entry_date": ""}, headers=h)
    assert r.status_code == 422, r.text  # the service names the first missing field
    r = await client.post(url, data={"name": "某劳务公司", "entry_date": "0001-01-01"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "entry_date"
    r = await client.get(f"/admin/v1/projects/{world.project.code}/audit?date_from=", headers=h)
    assert r.status_code == 200
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/audit?date_from=9999-12-31", headers=h
    )
    assert r.status_code == 422 and r.json()["field"] == "date_from"

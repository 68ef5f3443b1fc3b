"""ID numbers of older workers: the region is checked as "is or was a division", not at birth year.

``630102197707072081`` has a correct check digit and birth date, but region 630102 (西宁市城东区)
was created in 1983: the number keeps the region it was first issued with, so it must be accepted
everywhere an ID number is taken (enrolment, search, team add, team import, permit import).
"""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from models import KeyPersonnel, Person, ProjectMember
from realname.errors import ValidationError
from services import accounts, pii
from tests.devices.helpers import call, make_device
from tests.devices.test_enrolment_sync import enrol_body
from tests.factories import auth, make_project, token_for
from tests.foundation.test_import import permit_row
from tests.labour.helpers import BRANCH, CARD, headers_for, team_workbook, wage
from tests.suite import uid

OLD = "630102197707072081"
MADE_UP_REGION = "990101197707072087"  # correct check digit, no such division
BAD_CHECK = "630102197707072082"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_fixtures_are_what_they_claim():
    assert not ric.is_valid(OLD)  # stdnum alone refuses it (region checked at the birth year)
    assert ric.calc_check_digit(OLD) == OLD[-1]
    assert ric.calc_check_digit(MADE_UP_REGION) == MADE_UP_REGION[-1]


def test_validator_region_checksum_and_birth_date():
    assert pii.validate_id_number(OLD) == OLD
    assert pii.validate_id_number(f" {OLD[:-1]}{OLD[-1].lower()} ") == OLD
    assert pii.id_region_known("630102") and pii.id_region_known("110103")  # 崇文区, until 2010
    assert not pii.id_region_known("990101") and not pii.id_region_known("639999")
    cases = {
        MADE_UP_REGION: "身份证号前6位不是有效的行政区划代码",
        BAD_CHECK: "身份证号校验位错误，请核对后重新输入",
        "63010219770707208": "身份证号应为18位（前17位为数字，末位为数字或X）",
        "63010219770707208A": "身份证号应为18位（前17位为数字，末位为数字或X）",
    }
    for number, message in cases.items():
        with pytest.raises(ValidationError) as err:
            pii.validate_id_number(number, field="x")
        assert (err.value.code, err.value.field, err.value.message) == (
            "invalid_id_number",
            "x",
            message,
        ), number
    # 31 February with a correct check digit, and a birth date in the future
    for first17 in ("63010219770231208", "63010221990101208"):
        number = first17 + ric.calc_check_digit(first17 + "0")
        with pytest.raises(ValidationError) as err:
            pii.validate_id_number(number)
        assert err.value.message == "身份证号中的出生日期无效"


async def test_old_number_accepted_at_enrolment_search_team_add_and_imports(client, redis):
    # enrolment by a collection machine
    first = await make_project()
    dev = await make_device(first, kind="collection")
    for bad in (MADE_UP_REGION, BAD_CHECK):
        r = await call(client, dev, "POST", "/device/v1/enrolments", enrol_body(first, bad))
        assert r.status_code == 422 and r.json()["field"] == "id_number", r.text
    assert not await Person.filter(id_number_bidx=pii.cipher().blind_index("id", BAD_CHECK))
    r = await call(
        client, dev, "POST", "/device/v1/enrolments", enrol_body(first, OLD, name="老王")
    )
    assert r.status_code == 201, r.text
    person = await Person.get(id=r.json()["person_id"])
    assert str(person.birth_date) == "1977-07-07" and person.gender == "女"

    # search by ID number on another project
    world = await make_project()
    h = await headers_for(redis, world, "gc")
    base = f"/admin/v1/projects/{world.project.code}"
    for bad in (MADE_UP_REGION, BAD_CHECK):
        r = await client.post(f"{base}/persons/search", headers=h, json={"id_number": bad})
        assert r.status_code == 422 and r.json()["code"] == "invalid_id_number", r.text
    r = await client.post(f"{base}/persons/search", headers=h, json={"id_number": OLD})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "老王"  # found (ID shown masked until on the project, rule 11)
    assert r.json()["id_number"] in (OLD, pii.mask_id_number(OLD))

    # team add
    url = f"{base}/teams/{world.team.id}/members"
    r = await client.post(url, headers=h, json={"id_number": MADE_UP_REGION, **wage()})
    assert r.status_code == 422 and r.json()["field"] == "id_number"
    r = await client.post(url, headers=h, json={"id_number": OLD, **wage()})
    assert r.status_code == 201, r.text

    # team import from the xlsx template, on a third project
    third = await make_project()
    h3 = await headers_for(redis, third, "gc")
    rows = [
        (OLD, "老王", "木工", "中国银行", CARD, BRANCH, "2026-01-06"),
        (MADE_UP_REGION, "某人", "木工", "中国银行", CARD, BRANCH, None),
    ]
    r = await client.post(
        f"/admin/v1/projects/{third.project.code}/teams/{third.team.id}/import",
        headers=h3,
        files={"file": ("导入.xlsx", team_workbook(rows), XLSX)},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["imported"], body["failed"]) == (1, 1), body
    assert body["errors"][0]["row"] == 3 and body["errors"][0]["field"] == "id_number"
    assert await ProjectMember.filter(project=third.project, person=person).exists()

    # permit import naming the older worker as project manager
    token = await token_for(redis, await accounts.operator_account(uid("op")))
    good = permit_row()
    good["key_personnel"][0]["id_number"] = OLD
    bad = permit_row()
    bad["key_personnel"][0]["id_number"] = MADE_UP_REGION
    r = await client.post("/admin/v1/projects/import", json=[good, bad], headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1
    assert [(e["index"], e["field"]) for e in r.json()["errors"]] == [
        (1, "key_personnel[0].id_number")
    ]
    kp = await KeyPersonnel.get(project__code=good["code"])
    assert kp.id_number_bidx == pii.cipher().blind_index("id", OLD)

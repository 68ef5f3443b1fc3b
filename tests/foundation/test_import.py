"""Project import from permit data: good rows, bad rows by index and field, idempotence."""

import copy
import json

from models import KeyPersonnel, ParticipatingUnit, Project
from tests.factories import auth, make_credit_code, make_id_number, make_phone, token_for
from tests.servers import cli_env, realname_ok
from tests.suite import uid


def permit_row(**kw):
    row = {
        "code": uid("QH"),
        "name": "西宁市城东区保障房项目",
        "type": "房屋建筑工程",
        "region_code": "630102",
        "managing_level": "county",
        "permit_number": uid("630102SG"),
        "permit_authority": "西宁市城东区住房和城乡建设局",
        "cost": "12345678.90",
        "units": [
            {
                "role": "builder",
                "name": "西宁城投公司",
                "credit_code": make_credit_code(),
                "site_lead": "王建",
                "site_lead_phone": make_phone(),
                "entry_date": "2026-03-01",
            },
            {
                "role": "general_contractor",
                "name": "青海建工集团",
                "credit_code": make_credit_code(),
                "site_lead": "李春云",
                "entry_date": "2026-03-01",
            },
        ],
        "key_personnel": [],
    }
    row["key_personnel"] = [
        {
            "role": "project_manager",
            "name": "赵经理",
            "id_number": make_id_number(),
            "unit_credit_code": row["units"][1]["credit_code"],
        }
    ]
    row.update(kw)
    return row


async def test_import_good_bad_and_repeat(client, redis):
    from services import accounts

    op = await accounts.operator_account(uid("op"))
    token = await token_for(redis, op)
    good = permit_row()
    bad_code = copy.deepcopy(permit_row())
    bad_code["units"][0]["credit_code"] = "123"
    bad_id = copy.deepcopy(permit_row())
    bad_id["key_personnel"][0]["id_number"] = "630102199001011230"
    rows = [good, bad_code, {"name": "缺编号"}, bad_id]
    r = await client.post("/admin/v1/projects/import", json=rows, headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 1 and body["updated"] == 0
    errors = {e["index"]: e for e in body["errors"]}
    assert errors[1]["field"] == "units[0].credit_code"
    assert errors[2]["field"] == "code"
    assert errors[3]["field"] == "key_personnel[0].id_number"
    assert not await Project.filter(code=bad_code["code"]).exists()

    project = await Project.get(code=good["code"])
    assert await ParticipatingUnit.filter(project=project).count() == 2
    assert await KeyPersonnel.filter(project=project).count() == 1

    # Idempotent: the same data again changes nothing but the update count.
    good["name"] = "改名后的项目"
    r = await client.post("/admin/v1/projects/import", json=[good], headers=auth(token))
    assert r.json()["created"] == 0 and r.json()["updated"] == 1
    assert await ParticipatingUnit.filter(project=project).count() == 2
    assert await KeyPersonnel.filter(project=project).count() == 1
    assert (await Project.get(code=good["code"])).name == "改名后的项目"


async def test_import_refused_for_companies(client, redis):
    from tests.factories import enterprise_token, make_enterprise

    token = await enterprise_token(redis, await make_enterprise())
    r = await client.post("/admin/v1/projects/import", json=[permit_row()], headers=auth(token))
    assert r.status_code == 403


async def test_import_not_a_list(client, redis):
    from services import accounts

    token = await token_for(redis, await accounts.operator_account(uid("op")))
    r = await client.post("/admin/v1/projects/import", json={"a": 1}, headers=auth(token))
    assert r.status_code == 422 and r.json()["code"] == "invalid_file"


def test_cli_import_and_token(tmp_path, settings):
    """`realname import-projects` and `realname token issue` against the test database."""
    env = cli_env(settings)
    row = permit_row()
    f = tmp_path / "p.json"
    f.write_text(json.dumps([row], ensure_ascii=False), encoding="utf-8")
    assert json.loads(realname_ok(env, "import-projects", str(f)))["created"] == 1
    gc_code = row["units"][1]["credit_code"]
    token = realname_ok(env, "token", "issue", "--enterprise", gc_code).strip()
    assert len(token) > 30 and "\n" not in token

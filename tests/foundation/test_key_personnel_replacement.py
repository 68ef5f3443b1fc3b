"""A re-import naming a new 项目经理 replaces the old one: post ended (kept), access gone."""

from __future__ import annotations

import copy
import datetime as dt
import json

from models import (
    AuditLog,
    KeyPersonnel,
    ParticipatingUnit,
    PersonType,
    Post,
    Project,
    ProjectMember,
    UnitRole,
    WorkStatus,
)
from services import accounts
from tests.factories import auth, enterprise_token, token_for
from tests.foundation.test_import import permit_row
from tests.servers import cli_env, realname_ok
from tests.signin.conftest import wechat_person
from tests.suite import uid


async def _import(client, token, row):
    r = await client.post("/admin/v1/projects/import", json=[row], headers=auth(token))
    assert r.status_code == 200 and not r.json()["errors"], r.text
    return r.json()


async def _scan(client, person) -> dict:
    r = await client.post("/admin/v1/auth/qr/tickets")
    ticket = r.json()["ticket"]
    r = await client.post(f"/miniapp/v1/qr/{ticket}/scan", headers=auth(person["token"]))
    assert r.status_code == 200, r.text
    return r.json()


async def _public_pms(client, row) -> list[str]:
    r = await client.get(
        "/admin/v1/public/projects", params={"permit_number": row["permit_number"]}
    )
    assert r.status_code == 200, r.text
    (project,) = r.json()["data"]
    return [k["name"] for k in project["key_personnel"] if k["role"] == "project_manager"]


async def test_reimport_with_new_pm_ends_the_old_post(client, redis):
    op_token = await token_for(redis, await accounts.operator_account(uid("op")))
    old = await wechat_person(client)
    new = await wechat_person(client)
    row = permit_row()
    row["key_personnel"] = [
        {
            "role": "project_manager",
            "name": old["person"].name,
            "id_number": old["number"],
            "unit_credit_code": row["units"][1]["credit_code"],
        }
    ]
    await _import(client, op_token, row)
    project = await Project.get(code=row["code"])
    gc = await ParticipatingUnit.get(project=project, role=UnitRole.GENERAL_CONTRACTOR)
    # the PM is also carried as post personnel in that post (added by the company)
    pm_member = await ProjectMember.create(
        project=project,
        person=old["person"],
        unit=gc,
        person_type=PersonType.MANAGEMENT,
        post=Post.PROJECT_MANAGER,
        entry_date=dt.date(2026, 3, 1),
    )
    assert (await _scan(client, old))["can_confirm"] is True
    assert await _public_pms(client, row) == [old["person"].name]
    r = await client.get(f"/admin/v1/projects/{row['code']}/workbench", headers=auth(old["token"]))
    assert r.status_code == 200, r.text

    # The permit now names someone else.
    second = copy.deepcopy(row)
    second["key_personnel"][0].update(name=new["person"].name, id_number=new["number"])
    assert (await _import(client, op_token, second))["updated"] == 1

    rows = await KeyPersonnel.filter(project=project, role="project_manager").order_by("id")
    assert len(rows) == 2  # the old post is kept, ended
    assert rows[0].id_number_bidx == old["person"].id_number_bidx and rows[0].ended_at
    assert rows[1].id_number_bidx == new["person"].id_number_bidx and rows[1].ended_at is None
    assert await _public_pms(client, row) == [new["person"].name]

    # The old PM can no longer sign in by QR for this project, nor reach it with an old token.
    scan = await _scan(client, old)
    assert scan["can_confirm"] is False and scan["reason"] == "not_post_personnel"
    r = await client.get(f"/admin/v1/projects/{row['code']}/workbench", headers=auth(old["token"]))
    assert r.status_code == 404
    member = await ProjectMember.get(id=pm_member.id)
    assert member.work_status == WorkStatus.LEFT and member.exit_date is not None
    r = await client.get("/miniapp/v1/projects", headers=auth(old["token"]))
    assert row["code"] not in [p["project_code"] for p in r.json()["data"] if p["permit_posts"]]
    # ... and the new one can.
    assert (await _scan(client, new))["can_confirm"] is True

    audited = await AuditLog.filter(project=project, action__startswith="key_personnel.").values(
        "action", "target"
    )
    assert {(a["action"], a["target"]) for a in audited} == {
        ("key_personnel.appointed", f"key_personnel:{rows[0].id}"),
        ("key_personnel.ended", f"key_personnel:{rows[0].id}"),
        ("key_personnel.appointed", f"key_personnel:{rows[1].id}"),
    }
    assert await AuditLog.filter(
        project=project, action="post.exit", target=f"member:{pm_member.id}"
    ).exists()
    # The log names the writer in Chinese (the permit sync), never its code ("import").
    gc_token = await enterprise_token(redis, await gc.enterprise)
    r = await client.get(
        f"/admin/v1/projects/{row['code']}/audit",
        params={"action": "key_personnel.,post.exit"},
        headers=auth(gc_token),
    )
    assert r.status_code == 200, r.text
    assert [e["actor_name"] for e in r.json()["data"]] == ["系统（施工许可证同步）"] * 4

    # The same data again changes nothing; naming the old PM again re-appoints the kept row.
    await _import(client, op_token, second)
    assert await AuditLog.filter(project=project, action__startswith="key_personnel.").count() == 3
    await _import(client, op_token, row)
    assert await KeyPersonnel.filter(project=project).count() == 2
    current = await KeyPersonnel.get(project=project, ended_at=None)
    assert current.id == rows[0].id
    assert (await _scan(client, old))["can_confirm"] is True


async def test_row_without_a_role_leaves_it_alone(client, redis):
    op_token = await token_for(redis, await accounts.operator_account(uid("op")))
    row = permit_row()
    await _import(client, op_token, row)
    again = copy.deepcopy(row)
    again["key_personnel"] = []  # the permit data carries no personnel this time
    await _import(client, op_token, again)
    kp = await KeyPersonnel.get(project__code=row["code"])
    assert kp.ended_at is None


async def test_cli_reimport_replaces_the_pm(tmp_path, settings):
    """`realname import-projects` run twice: the second file's PM replaces the first."""
    env = cli_env(settings)
    row = permit_row()
    second = copy.deepcopy(row)
    second["key_personnel"][0].update(name="钱经理", id_number="630102197707072081")
    for data in (row, second):
        f = tmp_path / "p.json"
        f.write_text(json.dumps([data], ensure_ascii=False), encoding="utf-8")
        out = realname_ok(env, "import-projects", str(f))
        assert not json.loads(out)["errors"], out
    rows = await KeyPersonnel.filter(project__code=row["code"]).order_by("id")
    assert [(r.name, r.ended_at is not None) for r in rows] == [("赵经理", True), ("钱经理", False)]

"""Pickers for collection machines (issue 11 item 13): ``GET /device/v1/options`` and enrolment
accepting a post or work type as its code or its Chinese label."""

from __future__ import annotations

from models import ProjectMember, Team
from tests.devices.helpers import call, make_device, valid_id_number
from tests.devices.test_enrolment_sync import enrol_body
from tests.factories import make_project


async def test_options_list_units_teams_work_types_posts_with_a_version(client):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    r = await call(client, dev, "GET", "/device/v1/options")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["changed"] is True and len(data["version"]) == 16
    gc = next(u for u in data["units"] if u["credit_code"] == world.enterprises["gc"].credit_code)
    assert gc["role_label"] == "施工总承包单位"
    assert gc["teams"] == [{"id": world.team.id, "name": world.team.name, "on_site": True}]
    builder = next(
        u for u in data["units"] if u["credit_code"] == world.enterprises["builder"].credit_code
    )
    assert builder["teams"] == []
    posts = {p["label"]: p["code"] for p in data["posts"]}
    for label in ("项目经理", "施工员", "质量员", "资料员", "标准员", "造价员", "监理员", "其他"):
        assert label in posts
    assert len(data["posts"]) == 17
    work = {w["code"]: w["label"] for w in data["work_types"]}
    assert work["010"] == "砌筑工" and work["020"] == "钢筋工" and work["900"] == "管理人员"
    assert {"code": "labour", "label": "劳务人员"} in data["person_types"]
    # unchanged: only the version comes back
    r = await call(client, dev, "GET", f"/device/v1/options?version={data['version']}")
    assert r.json() == {"version": data["version"], "changed": False}
    # a new team on the web side changes the version
    await Team.create(project=world.project, unit=world.gc, name="新班组", leader="李")
    r = await call(client, dev, "GET", f"/device/v1/options?version={data['version']}")
    assert r.json()["changed"] is True and r.json()["version"] != data["version"]
    other = await make_project()
    r = await call(client, await make_device(other, kind="collection"), "GET", "/device/v1/options")
    assert all(u["credit_code"] != world.enterprises["gc"].credit_code for u in r.json()["units"])


async def test_enrolment_takes_post_and_work_type_as_code_or_label(client):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    body = enrol_body(world, valid_id_number(), person_type="management", post="施工员")
    body.pop("team_id")
    body.pop("work_type")
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 201, r.text
    assert (await ProjectMember.get(id=r.json()["member_id"])).post == "construction_officer"
    body = enrol_body(world, valid_id_number(), work_type="030")
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 201, r.text
    assert (await ProjectMember.get(id=r.json()["member_id"])).work_type == "架子工"
    body = enrol_body(world, valid_id_number(), work_type="建筑电工")
    assert (await call(client, dev, "POST", "/device/v1/enrolments", body)).status_code == 201
    # every national trade is also valid on the web side (wage card, edits); old names stay
    from services.enrolment import NATIONAL_WORK_TYPES
    from services.labour import validate_work_type

    for _, name in NATIONAL_WORK_TYPES:
        assert validate_work_type(name) == name
    assert validate_work_type("塔吊司机") == "塔吊司机"
    body = enrol_body(world, valid_id_number(), work_type="飞行员")
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 422 and r.json()["field"] == "work_type"
    body = enrol_body(world, valid_id_number(), person_type="management", post="船长")
    r = await call(client, dev, "POST", "/device/v1/enrolments", body)
    assert r.status_code == 422 and r.json()["field"] == "post"

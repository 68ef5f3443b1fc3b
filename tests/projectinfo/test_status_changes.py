"""Project status change (rule 8): the three review chains, rejection, wrong reviewers."""

from models import Project
from models.approvals import StatusChangeRequest
from tests.factories import auth, enterprise_token, make_project, regulator_token
from tests.projectinfo.helpers import EXE, pdf


async def apply(client, world, token, to_status="停工", files=None):
    return await client.post(
        f"/admin/v1/projects/{world.project.code}/status-changes",
        data={"to_status": to_status, "reason": "资金未到位，暂停施工"},
        files=files,
        headers=auth(token),
    )


async def decide(client, token, rid, verb="approve", notes=None):
    body = {"notes": notes} if notes is not None else {}
    return await client.post(
        f"/admin/v1/reviews/status-changes/{rid}/{verb}", json=body, headers=auth(token)
    )


async def test_county_chain_county_then_city(client, redis):
    world = await make_project(region="630102", managing_level="county")
    gc = await enterprise_token(redis, world.enterprises["gc"])
    county, city = await regulator_token(redis, "630102"), await regulator_token(redis, "630100")
    r = await apply(client, world, gc, files=[("files", pdf("停工报告.pdf"))])
    assert r.status_code == 201, r.text
    req = r.json()
    assert (req["from_status"], req["to_status"], req["state_label"]) == ("在建", "停工", "审核中")
    assert req["current_reviewer"] == "城东区主管部门（区县初审）"
    assert req["files"][0]["name"] == "停工报告.pdf"
    assert [s["step_label"] for s in req["reviews"]] == ["区县初审", "市州终审"]
    rid = req["id"]
    # The city may not review before the county.
    r = await decide(client, city, rid)
    assert r.status_code == 403
    assert r.json()["message"] == "尚未轮到您审核，当前审核人：城东区主管部门（区县初审）"
    # The county's queue has it; the city's does not yet.
    r = await client.get("/admin/v1/reviews/status-changes", headers=auth(county))
    assert rid in [row["id"] for row in r.json()["data"]]
    r = await client.get("/admin/v1/reviews/status-changes", headers=auth(city))
    assert rid not in [row["id"] for row in r.json()["data"]]
    r = await decide(client, county, rid, notes="同意")
    assert r.status_code == 200 and r.json()["current_reviewer"] == "西宁市主管部门（市州终审）"
    assert (await Project.get(id=world.project.id)).status == "在建"  # not yet
    r = await decide(client, county, rid)
    assert r.status_code == 403 and r.json()["message"] == "您已审核过该申请"
    r = await decide(client, city, rid, notes="准予停工")
    assert r.status_code == 200 and r.json()["state_label"] == "审核通过"
    assert (await Project.get(id=world.project.id)).status == "停工"
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/status-changes", headers=auth(gc)
    )
    row = r.json()["data"][0]
    assert (row["from_status"], row["to_status"], row["state_label"], row["current_reviewer"]) == (
        "在建",
        "停工",
        "审核通过",
        "--",
    )
    assert row["initiator"] == world.enterprises["gc"].name and row["created_at"]
    assert r.json()["current_status"] == "停工"
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/status-changes/{rid}", headers=auth(gc)
    )
    assert [s["notes"] for s in r.json()["reviews"]] == ["同意", "准予停工"]
    r = await decide(client, city, rid)
    assert r.status_code == 409 and r.json()["message"] == "该申请已审核通过，无需再审核"
    r = await client.get(
        "/admin/v1/reviews/status-changes", params={"state": "done"}, headers=auth(city)
    )
    assert rid in [row["id"] for row in r.json()["data"]]


async def test_city_chain_single_final_step(client, redis):
    world = await make_project(region="632801", managing_level="city")
    gc = await enterprise_token(redis, world.enterprises["gc"])
    county = await regulator_token(redis, "632801")
    city = await regulator_token(redis, "632800")
    r = await apply(client, world, gc, to_status="完工")
    rid = r.json()["id"]
    assert r.json()["current_reviewer"] == "海西蒙古族藏族自治州主管部门（市州终审）"
    r = await decide(client, county, rid)
    assert r.status_code == 403 and r.json()["code"] == "wrong_reviewer"
    assert r.json()["message"] == (
        "该申请应由海西蒙古族藏族自治州主管部门（市州终审）审核，您无权审核"
    )
    r = await decide(client, city, rid)
    assert r.status_code == 200 and r.json()["state"] == "approved"
    project = await Project.get(id=world.project.id)
    assert project.status == "完工" and project.ended_on is not None  # retention clock starts


async def test_province_chain_and_rejection(client, redis):
    world = await make_project(region="632301", managing_level="province")
    gc = await enterprise_token(redis, world.enterprises["gc"])
    city = await regulator_token(redis, "632300")
    province = await regulator_token(redis, "630000")
    r = await apply(client, world, gc)
    rid = r.json()["id"]
    assert r.json()["current_reviewer"] == "青海省主管部门（省级终审）"
    r = await decide(client, city, rid)
    assert r.status_code == 403 and r.json()["code"] == "wrong_reviewer"
    r = await decide(client, province, rid, verb="reject")
    assert r.status_code == 422 and r.json()["message"] == "驳回时请填写审核意见"
    assert r.json()["field"] == "notes"
    r = await decide(client, province, rid, verb="reject", notes="材料不全，请补充停工证明")
    assert r.status_code == 200 and r.json()["state_label"] == "审核不通过"
    assert (await Project.get(id=world.project.id)).status == "在建"
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}/status-changes/{rid}", headers=auth(gc)
    )
    assert r.json()["reviews"][0]["notes"] == "材料不全，请补充停工证明"
    assert r.json()["reviews"][0]["state_label"] == "不通过"
    # A new request may follow a rejection.
    r = await apply(client, world, gc)
    assert r.status_code == 201


async def test_county_rejection_cancels_city_step(client, redis):
    world = await make_project(region="630103", managing_level="county")
    gc = await enterprise_token(redis, world.enterprises["gc"])
    county, city = await regulator_token(redis, "630103"), await regulator_token(redis, "630100")
    rid = (await apply(client, world, gc)).json()["id"]
    r = await decide(client, county, rid, verb="reject", notes="不同意")
    assert r.status_code == 200
    assert [s["state_label"] for s in r.json()["reviews"]] == ["不通过", "未审核"]
    r = await decide(client, city, rid)
    assert r.status_code == 409
    assert (await Project.get(id=world.project.id)).status == "在建"


async def test_apply_rules(client, redis):
    world = await make_project()
    gc = await enterprise_token(redis, world.enterprises["gc"])
    url = f"/admin/v1/projects/{world.project.code}/status-changes"
    cases = [
        ({"to_status": "", "reason": "x"}, "to_status", "请填写变更状态"),
        (
            {"to_status": "拆除", "reason": "x"},
            "to_status",
            "变更状态应为：未开工、在建、停工、完工",
        ),
        ({"to_status": "在建", "reason": "x"}, "to_status", "项目当前已是“在建”状态"),
        ({"to_status": "停工", "reason": " "}, "reason", "请填写变更原因"),
    ]
    for body, field, message in cases:
        r = await client.post(url, json=body, headers=auth(gc))
        assert r.status_code == 422 and (r.json()["field"], r.json()["message"]) == (field, message)
    r = await apply(client, world, gc, files=[("files", ("a.pdf", EXE, "application/pdf"))])
    assert r.status_code == 422 and r.json()["field"] == "files"
    assert await StatusChangeRequest.filter(project_id=world.project.id).count() == 0
    r = await apply(client, world, gc)
    assert r.status_code == 201
    rid = r.json()["id"]
    r = await apply(client, world, gc, to_status="完工")
    assert r.status_code == 409
    assert r.json()["message"] == "该项目已有审核中的状态变更申请，请等待审核完成后再申请"
    # Regulators and strangers cannot apply; other projects' companies cannot see.
    reg = await regulator_token(redis, "630102")
    r = await apply(client, world, reg)
    assert r.status_code == 403
    other = await make_project()
    stranger = await enterprise_token(redis, other.enterprises["gc"])
    r = await client.get(url, headers=auth(stranger))
    assert r.status_code == 404
    r = await client.get(
        f"/admin/v1/projects/{other.project.code}/status-changes/{rid}", headers=auth(stranger)
    )
    assert r.status_code == 404 and r.json()["code"] == "request_not_found"
    # Withdraw before review, then apply again.
    r = await client.post(f"{url}/{rid}/withdraw", headers=auth(gc))
    assert r.status_code == 200 and r.json()["state_label"] == "已撤回"
    r = await apply(client, world, gc)
    assert r.status_code == 201
    r = await client.get(url, params={"state": "withdrawn"}, headers=auth(gc))
    assert r.json()["total"] == 1


async def test_reviewer_region_and_kind(client, redis):
    world = await make_project(region="630102", managing_level="county")
    gc = await enterprise_token(redis, world.enterprises["gc"])
    rid = (await apply(client, world, gc)).json()["id"]
    # A regulator of another city cannot even see it; another county of the same city sees
    # nothing either; companies are not reviewers.
    far = await regulator_token(redis, "632500")
    r = await decide(client, far, rid)
    assert r.status_code == 404 and r.json()["code"] == "request_not_found"
    r = await client.get(f"/admin/v1/reviews/status-changes/{rid}", headers=auth(far))
    assert r.status_code == 404
    neighbour = await regulator_token(redis, "630104")
    r = await decide(client, neighbour, rid)
    assert r.status_code == 404
    r = await decide(client, gc, rid)
    assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind"
    r = await client.get("/admin/v1/reviews/status-changes", headers=auth(gc))
    assert r.status_code == 403
    # The province covers the project but is not in a county-managed chain.
    province = await regulator_token(redis, "630000")
    r = await decide(client, province, rid)
    assert r.status_code == 403 and r.json()["code"] == "wrong_reviewer"
    r = await client.get(f"/admin/v1/reviews/status-changes/{rid}", headers=auth(province))
    assert r.status_code == 200

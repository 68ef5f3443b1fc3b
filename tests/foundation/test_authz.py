"""The one authorisation check: company, post personnel, worker and regulator standing."""

from models import PersonType, Post
from tests import factories
from tests.factories import auth


async def test_company_sees_own_project_only(client, redis):
    a, b = await factories.make_project(), await factories.make_project()
    token = await factories.enterprise_token(redis, a.enterprises["gc"])
    r = await client.get(f"/admin/v1/projects/{a.project.code}", headers=auth(token))
    assert r.status_code == 200 and "manage" in r.json()["my_capabilities"]
    r = await client.get(f"/admin/v1/projects/{b.project.code}", headers=auth(token))
    assert r.status_code == 404 and r.json()["code"] == "project_not_found"
    r = await client.get("/admin/v1/projects", headers=auth(token))
    codes = [p["code"] for p in r.json()["data"]]
    assert codes == [a.project.code]


async def test_unrelated_company_refused(client, redis):
    world = await factories.make_project()
    stranger = await factories.make_enterprise()
    token = await factories.enterprise_token(redis, stranger)
    r = await client.get(f"/admin/v1/projects/{world.project.code}", headers=auth(token))
    assert r.status_code == 404


async def test_no_token_and_bad_token(client):
    world = await factories.make_project()
    r = await client.get(f"/admin/v1/projects/{world.project.code}")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    r = await client.get(f"/admin/v1/projects/{world.project.code}", headers=auth("forged"))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_post_person_and_worker_capabilities(client, redis):
    world = await factories.make_project()
    pm_person, _, _ = await factories.make_person()
    await factories.make_member(
        world, person=pm_person, person_type=PersonType.MANAGEMENT, post=Post.PROJECT_MANAGER
    )
    worker, _, _ = await factories.make_person()
    await factories.make_member(world, person=worker)
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}",
        headers=auth(await factories.person_token(redis, pm_person)),
    )
    assert r.status_code == 200 and {"manage", "view_pii"} <= set(r.json()["my_capabilities"])
    # A labour member has no standing on the web project side.
    r = await client.get(
        f"/admin/v1/projects/{world.project.code}",
        headers=auth(await factories.person_token(redis, worker)),
    )
    assert r.status_code == 404


async def test_regulator_region_scope(client, redis):
    world = await factories.make_project(region="630102")
    city = await factories.regulator_token(redis, "630100")
    other_city = await factories.regulator_token(redis, "632800")
    province = await factories.regulator_token(redis, "630000")
    for token, expected in ((city, 200), (province, 200), (other_city, 404)):
        r = await client.get(f"/admin/v1/projects/{world.project.code}", headers=auth(token))
        assert r.status_code == expected
    r = await client.get(f"/admin/v1/projects/{world.project.code}", headers=auth(city))
    assert set(r.json()["my_capabilities"]) == {"view", "review"}


async def test_revoked_token(client, redis):
    from services import identity

    world = await factories.make_project()
    token = await factories.enterprise_token(redis, world.enterprises["gc"])
    await identity.revoke_token(redis, token)
    r = await client.get(f"/admin/v1/projects/{world.project.code}", headers=auth(token))
    assert r.status_code == 401

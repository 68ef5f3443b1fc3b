"""Cross-project and cross-company access to every project-info resource is refused."""

import pytest

from models import PersonType, Post
from tests import factories
from tests.factories import auth, site_today
from tests.projectinfo.helpers import pdf

TODAY = site_today()
Y, M = TODAY.year, TODAY.month

ENDPOINTS = [
    ("GET", "units"),
    ("GET", "units/options"),
    ("POST", "units"),
    ("GET", "materials/monthly"),
    ("POST", f"materials/monthly/{Y}/{M}"),
    ("GET", f"materials/monthly/{Y}/{M}"),
    ("POST", f"materials/monthly/{Y}/{M}/items"),
    ("GET", "materials/vouchers"),
    ("POST", "materials/attachments"),
    ("GET", "materials/wage-account"),
    ("POST", "materials/wage-account/escrow_agreement"),
    ("GET", "status-changes"),
    ("POST", "status-changes"),
    ("GET", "workbench"),
    ("GET", "announcements"),
]


@pytest.mark.parametrize("who", ["stranger_company", "other_project_pm", "worker"])
async def test_every_resource_refuses_outsiders(client, redis, who):
    world = await factories.make_project()
    if who == "stranger_company":
        token = await factories.enterprise_token(redis, await factories.make_enterprise())
    elif who == "other_project_pm":
        other = await factories.make_project()
        pm, _, _ = await factories.make_person()
        await factories.make_member(
            other, person=pm, person_type=PersonType.MANAGEMENT, post=Post.PROJECT_MANAGER
        )
        token = await factories.person_token(redis, pm)
    else:  # a labour member of this very project has no standing on the web side
        worker, _, _ = await factories.make_person()
        await factories.make_member(world, person=worker)
        token = await factories.person_token(redis, worker)
    gc = await factories.enterprise_token(redis, world.enterprises["gc"])
    rid = (
        await client.post(
            f"/admin/v1/projects/{world.project.code}/status-changes",
            json={"to_status": "停工", "reason": "x"},
            headers=auth(gc),
        )
    ).json()["id"]
    extra = [
        ("GET", f"units/{world.gc.id}"),
        ("PATCH", f"units/{world.gc.id}"),
        ("POST", f"units/{world.gc.id}/exit"),
        ("GET", f"status-changes/{rid}"),
        ("POST", f"status-changes/{rid}/withdraw"),
    ]
    for method, path in ENDPOINTS + extra:
        r = await client.request(
            method, f"/admin/v1/projects/{world.project.code}/{path}", json={}, headers=auth(token)
        )
        assert r.status_code == 404, (who, method, path, r.status_code)
        assert r.json()["code"] == "project_not_found"


async def test_files_served_only_within_the_project(client, redis):
    a, b = await factories.make_project(), await factories.make_project()
    gc_a = await factories.enterprise_token(redis, a.enterprises["gc"])
    r = await client.post(
        f"/admin/v1/projects/{a.project.code}/units",
        data={
            "name": "甲分包",
            "credit_code": factories.make_credit_code(),
            "entry_date": TODAY.isoformat(),
            "region_code": "630102",
            "registered_on": "2010-01-01",
        },
        files={"contract_file": pdf()},
        headers=auth(gc_a),
    )
    assert r.status_code == 201, r.text
    url = r.json()["contract"]["url"]
    r = await client.get(url, headers=auth(gc_a))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    gc_b = await factories.enterprise_token(redis, b.enterprises["gc"])
    r = await client.get(url, headers=auth(gc_b))
    assert r.status_code == 404
    file_id = url.rsplit("/", 1)[1]
    r = await client.get(f"/admin/v1/projects/{b.project.code}/files/{file_id}", headers=auth(gc_b))
    assert r.status_code == 404

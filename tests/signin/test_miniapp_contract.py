"""The mini-program surface on the API contract (issue 9): every route declared, deny by default,
query and body checked before the handler (unknown parameters 422, bounded fields), nothing
changed by a refused request."""

from __future__ import annotations

from models.audit import AuditLog
from models.binding import WeChatBinding
from models.supplement import SupplementRequest
from realname.contract import declaration
from tests.factories import auth, enterprise_token
from tests.signin.conftest import (
    enrolled_person,
    miniapp_login,
    supplement_filed,
    synced_project,
    wechat_person,
)

MINIAPP_ROUTES = {
    ("POST", "miniapp/v1/auth/login"),
    ("GET", "miniapp/v1/auth/me"),
    ("POST", "miniapp/v1/auth/logout"),
    ("GET", "miniapp/v1/binding"),
    ("POST", "miniapp/v1/binding"),
    ("DELETE", "miniapp/v1/binding"),
    ("POST", "miniapp/v1/qr/<ticket:str>/scan"),
    ("POST", "miniapp/v1/qr/<ticket:str>/confirm"),
    ("POST", "miniapp/v1/qr/<ticket:str>/cancel"),
    ("GET", "miniapp/v1/projects"),
    ("GET", "miniapp/v1/projects/<code:str>/summary"),
    ("GET", "miniapp/v1/members/<member_id:int>/attendance"),
    ("GET", "miniapp/v1/members/<member_id:int>/punches/<punch_id:int>/photo"),
    ("GET", "miniapp/v1/members/<member_id:int>/contracts"),
    ("GET", "miniapp/v1/approvals"),
    ("POST", "miniapp/v1/approvals/<request_id:int>/approve"),
    ("POST", "miniapp/v1/approvals/<request_id:int>/reject"),
    ("GET", "miniapp/v1/announcements"),
}


def test_every_route_declared_and_only_sign_in_is_public(app):
    seen = set()
    for route in app.router.routes:
        if not route.path.startswith("miniapp/v1/") or "HEAD" in route.methods:
            continue
        decl = declaration(route.handler)
        assert decl is not None and decl.summary and decl.response is not None, route.path
        (method,) = route.methods
        seen.add((method, route.path))
        if route.path == "miniapp/v1/auth/login":
            assert decl.access.is_public
        else:
            assert not decl.access.is_public and not decl.access.is_device, route.path
            # only WeChat users (kind person): no enterprise, regulator or operator token
            for kind in ("enterprise", "regulator", "operator"):
                assert not decl.access.allows_kind(kind), (route.path, kind)
            assert decl.access.allows_kind("person"), route.path
    assert seen == MINIAPP_ROUTES


async def test_other_kinds_and_anonymous_are_refused(client, redis):
    world = await synced_project()
    token = await enterprise_token(redis, world.enterprises["gc"])
    for path in ("/miniapp/v1/projects", "/miniapp/v1/binding", "/miniapp/v1/announcements"):
        r = await client.get(path, headers=auth(token))
        assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind", path
        r = await client.get(path)
        assert r.status_code == 401, path
    r = await client.get(f"/miniapp/v1/projects/{world.project.code}/summary", headers=auth(token))
    assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind"


async def test_unknown_and_out_of_range_parameters_are_422(client):
    world = await synced_project()
    me = await wechat_person(client, world, labour=True)
    h = auth(me["token"])
    r = await client.get("/miniapp/v1/projects?team=1", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "unknown_parameter"
    assert r.json()["field"] == "team"
    r = await client.get("/miniapp/v1/announcements?page_size=51", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "page_size"
    assert r.json()["code"] == "out_of_range" and "每页条数" in r.json()["message"]
    r = await client.get("/miniapp/v1/announcements?page=99999999999999999999", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "page"
    member_id = (await client.get("/miniapp/v1/projects", headers=h)).json()["data"][0]["member_id"]
    r = await client.get(f"/miniapp/v1/members/{member_id}/attendance?month=2026-01&x=1", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "x"
    r = await client.get(f"/miniapp/v1/members/{member_id}/attendance?month=2026-011", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "month"
    r = await client.get(f"/miniapp/v1/members/{2**40}/attendance", headers=h)
    assert r.status_code == 404


async def test_over_long_bodies_are_refused_and_change_nothing(client, redis):
    r = await client.post("/miniapp/v1/auth/login", json={"code": "x" * 129})
    assert r.status_code == 422 and r.json()["field"] == "code"
    assert "微信登录凭证" in r.json()["message"]
    login = await miniapp_login(client)
    person, number, _ = await enrolled_person()
    r = await client.post(
        "/miniapp/v1/binding",
        json={"name": "名" * 65, "id_number": number, "phone_code": "p"},
        headers=auth(login["token"]),
    )
    assert r.status_code == 422 and r.json()["field"] == "name" and "姓名" in r.json()["message"]
    r = await client.post(
        "/miniapp/v1/binding",
        json={"name": person.name, "id_number": number, "phone_code": "p", "admin": True},
        headers=auth(login["token"]),
    )
    assert r.status_code == 422 and r.json()["field"] == "admin"
    assert not await WeChatBinding.exists(person_id=person.id)
    assert not await AuditLog.filter(action__startswith="binding.", target=f"person:{person.id}")


async def test_approval_comment_bounded(client, redis):
    world = await synced_project()
    officer = await wechat_person(client, world, post="labour_officer")
    request_id = await supplement_filed(client, redis, world)
    r = await client.post(
        f"/miniapp/v1/approvals/{request_id}/approve",
        json={"comment": "意" * 501},
        headers=auth(officer["token"]),
    )
    assert r.status_code == 422 and r.json()["field"] == "comment"
    assert "审批意见" in r.json()["message"]
    r = await client.post(
        f"/miniapp/v1/approvals/{request_id}/approve",
        json={"comment": 5},
        headers=auth(officer["token"]),
    )
    assert r.status_code == 422 and r.json()["field"] == "comment"
    req = await SupplementRequest.get(id=request_id)
    assert req.state == "pending" and req.step == 0

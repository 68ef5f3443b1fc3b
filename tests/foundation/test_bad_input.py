"""Every bad input is a 4xx in the one error shape, never a 5xx (the fuzz list of issue 9).

Each case runs against representative routes of the three surfaces: converted admin routes,
routes not converted to declarations yet, the mini-program and the signed device protocol.
"""

from __future__ import annotations

from typing import Any

import pytest

from models import Person
from tests import factories
from tests.devices.helpers import call, make_device
from tests.factories import auth

BIG = str(2**64 + 7)


def assert_4xx(r: Any, what: str) -> None:
    assert 400 <= r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        assert isinstance(body.get("code"), str) and body.get("message"), f"{what}: {body}"


@pytest.fixture
async def world_h(redis):
    world = await factories.make_project()
    return world, auth(await factories.enterprise_token(redis, world.enterprises["gc"]))


ADMIN_GETS = [
    "/admin/v1/projects/{code}/teams?{q}",  # converted
    "/admin/v1/projects/{code}/devices?{q}",  # converted
    "/admin/v1/projects/{code}/roster?{q}",
    "/admin/v1/projects/{code}/contracts?{q}",
    "/admin/v1/projects/{code}/attendance/punch-stats?{q}",
    "/admin/v1/projects/{code}/supplements?{q}",
    "/admin/v1/projects/{code}/audit?{q}",
]
BAD_QUERIES = [
    f"page={BIG}",
    f"page_size={BIG}",
    "page=-1",
    "kind=zzz",
    "status=zzz",
    f"team_id={BIG}",
    "month=0001-01",
    "month=9999-12",
    "date_from=0001-01-01&date_to=9999-12-31",
    "start=0001-01-01",
    "name=" + "x" * 5000,
    "name=%ED%A0%80",  # a lone surrogate, UTF-8 encoded
]


@pytest.mark.parametrize("path", ADMIN_GETS)
async def test_admin_lists_bad_query(client, world_h, path):
    world, h = world_h
    for q in BAD_QUERIES:
        r = await client.get(path.format(code=world.project.code, q=q), headers=h)
        assert r.status_code < 500, f"{path} ?{q}: {r.status_code} {r.text[:300]}"
        if r.status_code >= 400:
            assert_4xx(r, f"{path} ?{q}")


ADMIN_PATHS = [
    "/admin/v1/projects/{code}/teams/{n}",
    "/admin/v1/projects/{code}/members/{n}",
    "/admin/v1/projects/{code}/contracts/{n}",
    "/admin/v1/projects/{code}/supplements/{n}",
    "/admin/v1/projects/{code}/attendance/members/{n}/month",
    "/admin/v1/projects/{code}/announcements/{n}",
    "/miniapp/v1/approvals/{n}/approve",
]


@pytest.mark.parametrize("path", ADMIN_PATHS)
async def test_huge_ids_and_long_paths(client, world_h, path):
    world, h = world_h
    for n in (BIG, str(2**31), "9" * 400):
        url = path.format(code=world.project.code, n=n)
        r = await client.request("POST" if url.endswith("approve") else "GET", url, headers=h)
        assert_4xx(r, url)
    r = await client.get(path.format(code="P" * 3000, n=1), headers=h)
    assert_4xx(r, "long code")


JSON_BODIES = [
    b'{"name": "x", "unit_id": Infinity}',
    b'{"name": "x", "unit_id": 1e400}',
    b'{"name": "x", "unit_id": NaN}',
    b'{"name": "x", "unit_id": ' + BIG.encode() + b"}",
    b'{"name": "\\ud800", "unit_id": 1}',
    b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b', "unit_id": 1}',
    b"[" * 100000,
    b'{"name": "' + b"x" * 100000 + b'", "unit_id": 1}',
    b"\xff\xfe not json",
]
ADMIN_POSTS = [
    ("POST", "/admin/v1/projects/{code}/teams"),
    ("PATCH", "/admin/v1/projects/{code}/teams/{team}"),
    ("POST", "/admin/v1/projects/{code}/devices"),
    ("POST", "/admin/v1/projects/{code}/contracts"),
    ("POST", "/admin/v1/projects/{code}/supplements"),
    ("POST", "/admin/v1/projects/{code}/units"),
    ("POST", "/admin/v1/projects/{code}/posts"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_POSTS)
async def test_bad_json_bodies(client, world_h, method, path):
    world, h = world_h
    url = path.format(code=world.project.code, team=world.team.id)
    for body in JSON_BODIES:
        r = await client.request(
            method, url, content=body, headers={**h, "content-type": "application/json"}
        )
        assert_4xx(r, f"{method} {path} {body[:60]!r}")


async def test_long_and_odd_headers(client, world_h):
    world, h = world_h
    url = f"/admin/v1/projects/{world.project.code}/teams"
    r = await client.get(url, headers={"authorization": "Bearer " + "x" * 7000})
    assert_4xx(r, "long token")
    r = await client.get(url, headers={**h, "x-forwarded-for": "9" * 6000})
    assert r.status_code < 500
    r = await client.get(url, headers={"authorization": "Bearer 令牌".encode()})
    assert_4xx(r, "non-ASCII token")


async def test_device_protocol_bad_input(client):
    world = await factories.make_project()
    dev = await make_device(world)
    odd = {"X-Signature": "签名".encode(), "X-Nonce": ("ü" * 10).encode()}
    for headers in (
        odd,
        {"X-Signature": "签名".encode()},
        {"X-Nonce": "ü".encode() * 10},
        {"X-Nonce": "n" * 5000},
        {"X-Timestamp": BIG},
        {"X-Timestamp": "1e400"},
        {"X-Device-SN": "S" * 5000},
    ):
        r = await call(client, dev, "POST", "/device/v1/heartbeat", {}, headers=headers)
        assert_4xx(r, f"heartbeat {list(headers)}")
    nested = "[" * 1000 + "]" * 1000  # json.dumps itself cannot write this
    raw = f'{{"punches": [{{"id_number": {nested}, "time": "2026-01-01T00:00:00+08:00"}}]}}'
    raw = raw.encode()
    r = await call(client, dev, "POST", "/device/v1/punches", raw=raw)
    assert_4xx(r, "nested punch")
    for value in ("Infinity", "1e400", BIG, '"0001-01-01T00:00:00Z"', '"9999-12-31T23:59:59Z"'):
        raw = f'{{"punches": [{{"person_id": {value}, "time": {value}}}]}}'.encode()
        r = await call(client, dev, "POST", "/device/v1/punches", raw=raw)
        assert r.status_code < 500, f"punch {value}: {r.status_code} {r.text[:200]}"
    r = await call(client, dev, "GET", f"/device/v1/faces/{BIG}")
    assert_4xx(r, "face big id")


async def test_miniapp_bad_input(client, redis):
    world = await factories.make_project()
    person, _, _ = await factories.make_person()
    await factories.make_member(world, person=person)
    h = auth(await factories.person_token(redis, person))
    for url in (
        f"/miniapp/v1/attendance?month={BIG}",
        "/miniapp/v1/attendance?month=0001-01",
        "/miniapp/v1/attendance?month=9999-13",
        f"/miniapp/v1/punches/{BIG}/photo",
        f"/miniapp/v1/projects/{'P' * 3000}/summary",
    ):
        r = await client.get(url, headers=h)
        assert r.status_code < 500, f"{url}: {r.status_code} {r.text[:200]}"
    for body in JSON_BODIES:
        r = await client.post(
            "/miniapp/v1/login", content=body, headers={"content-type": "application/json"}
        )
        assert_4xx(r, f"login {body[:40]!r}")
    assert await Person.exists(id=person.id)

"""Fixtures for the sign-in tests: a clean rate-limit slate, helpers for the flows."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from integrations.wechat.standin import standin_login_code, standin_phone_code
from models import Account, Person, PersonType
from tests.factories import (
    ProjectWorld,
    auth,
    enterprise_token,
    make_id_number,
    make_member,
    make_person,
    make_project,
    site_today,
)
from tests.servers import serve_realname
from tests.suite import uid


@pytest.fixture(autouse=True)
async def _clear_rate_limits(redis: Any) -> AsyncIterator[None]:
    """Every test starts with empty rate-limit windows (all ASGI calls share one client IP)."""
    keys = [k async for k in redis.scan_iter(match="rl:*")]
    if keys:
        await redis.delete(*keys)
    yield


def valid_id_number() -> str:
    """A synthetic ID number that passes stdnum's full check (some factory numbers do not:
    region 630102 is unknown for some birth years)."""
    while True:
        number = make_id_number()
        try:
            ric.validate(number)
            return number
        except stdnum_errors.ValidationError:
            continue


async def enrolled_person(phone: str | None = None) -> tuple[Person, str, str]:
    """An enrolled person with a fully valid ID number: (person, id number, phone)."""
    return await make_person(id_number=valid_id_number(), phone=phone)


async def synced_project(**kw: Any) -> ProjectWorld:
    """A project as imported from permit data (synced_at set)."""
    world = await make_project(**kw)
    world.project.synced_at = dt.datetime.now(dt.UTC)
    await world.project.save(update_fields=["synced_at"])
    return world


async def miniapp_login(client: httpx.AsyncClient, code: str | None = None) -> dict[str, Any]:
    """Log in to the mini-program with a stand-in wx.login code; returns the reply body."""
    r = await client.post(
        "/miniapp/v1/auth/login", json={"code": code or standin_login_code(uid())}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def bind_directly(
    account_token_body: dict[str, Any],
    client: httpx.AsyncClient,
    name: str,
    number: str,
    phone: str,
) -> dict[str, Any]:
    """Bind the logged-in WeChat user through the API with a matching phone."""
    r = await client.post(
        "/miniapp/v1/binding",
        json={"name": name, "id_number": number, "phone_code": standin_phone_code(phone)},
        headers={"Authorization": f"Bearer {account_token_body['token']}"},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def wechat_person(
    client: httpx.AsyncClient,
    world: ProjectWorld | None = None,
    *,
    post: str = "",
    labour: bool = False,
) -> dict[str, Any]:
    """An enrolled person logged in to the mini-program and bound; optionally on `world`."""
    person, number, phone = await enrolled_person()
    if world is not None and post:
        await make_member(world, person=person, person_type=PersonType.MANAGEMENT, post=post)
    elif world is not None and labour:
        await make_member(world, person=person)
    body = await miniapp_login(client)
    bound = await bind_directly(body, client, person.name, number, phone)
    account = await Account.get(person_id=person.id, wechat_openid__isnull=False)
    return {
        "person": person,
        "number": number,
        "phone": phone,
        "token": bound["token"],
        "account": account,
    }


async def supplement_filed(client: httpx.AsyncClient, redis: Any, world: ProjectWorld) -> int:
    """The id of a 考勤补录 for yesterday (08:00–17:00) the general contractor filed for a new
    labour member of `world`; it waits for the labour officer."""
    member = await make_member(world, entry_date=site_today() - dt.timedelta(days=3))
    r = await client.post(
        f"/admin/v1/projects/{world.project.code}/supplements",
        json={
            "member_id": member.id,
            "date": (site_today() - dt.timedelta(days=1)).isoformat(),
            "in_time": "08:00",
            "out_time": "17:00",
            "reason": "设备故障未能打卡",
        },
        headers=auth(await enterprise_token(redis, world.enterprises["gc"])),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def serve_app(settings: Any, redis_handle: Any, **env_extra: str) -> Iterator[str]:
    """Run the app for real with `realname serve` on a free port, sharing the test session's
    database and Redis; yields ``host:port`` and stops the server afterwards."""
    with serve_realname(settings, redis_handle, **env_extra) as base:
        yield base.removeprefix("http://")


@pytest.fixture(scope="session")
def live_server(settings: Any, redis_handle: Any, database: None) -> Iterator[str]:
    """The app served for real by `realname serve` (WebSockets need a real server), sharing the
    test session's database file and Redis."""
    yield from serve_app(settings, redis_handle)

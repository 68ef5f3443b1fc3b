"""Rate limits on login, QR and binding endpoints: 429, Chinese message, retry_after."""

from __future__ import annotations

import asyncio
import time

import pytest

from integrations.wechat.standin import standin_login_code, standin_phone_code
from models import AuditLog
from realname.errors import RateLimited
from services import identity, ratelimit
from tests.factories import auth
from tests.signin.conftest import enrolled_person, miniapp_login, valid_id_number
from tests.suite import uid


async def test_miniapp_login_limited_per_ip(client_at):
    caller = client_at("10.9.0.7")
    limit = ratelimit.MINIAPP_LOGIN.limit
    for _ in range(limit):
        r = await caller.post("/miniapp/v1/auth/login", json={"code": standin_login_code("same")})
        assert r.status_code == 200
    r = await caller.post("/miniapp/v1/auth/login", json={"code": standin_login_code("same")})
    assert r.status_code == 429
    body = r.json()
    assert body["code"] == "rate_limited" and "频繁" in body["message"]
    assert 1 <= body["retry_after"] <= ratelimit.MINIAPP_LOGIN.window
    # Another address is not affected.
    r = await client_at("10.200.1.1").post(
        "/miniapp/v1/auth/login", json={"code": standin_login_code("same")}
    )
    assert r.status_code == 200


async def test_binding_limited_per_account(client, redis):
    person, number, phone = await enrolled_person()
    login = await miniapp_login(client)
    for _ in range(ratelimit.BINDING.limit):
        r = await client.post(
            "/miniapp/v1/binding",
            headers=auth(login["token"]),
            json={
                "name": "猜测",
                "id_number": valid_id_number(),
                "phone_code": standin_phone_code(phone),
            },
        )
        assert r.status_code == 404
    # Even the right answer is refused until the window has passed.
    r = await client.post(
        "/miniapp/v1/binding",
        headers=auth(login["token"]),
        json={"name": person.name, "id_number": number, "phone_code": standin_phone_code(phone)},
    )
    assert r.status_code == 429 and r.json()["limit"] == "binding"
    assert "实名绑定" in r.json()["message"]
    who = await identity.resolve_token(redis, login["token"])
    refused = await AuditLog.filter(
        action="binding.refused", actor_id=str(who.account_id)
    ).order_by("id")  # in the order written (PostgreSQL returns rows in no set order otherwise)
    assert len(refused) == ratelimit.BINDING.limit + 1  # every attempt, the refused one too
    assert refused[-1].detail == {"reason": "rate_limited", "limit": "binding"}


async def test_binding_limited_per_person_across_accounts(client):
    """Guesses at one ID number spread over many WeChat accounts still run out."""
    person, number, phone = await enrolled_person()
    for _ in range(ratelimit.BINDING_PERSON.limit):
        login = await miniapp_login(client)
        r = await client.post(
            "/miniapp/v1/binding",
            headers=auth(login["token"]),
            json={"name": "猜测", "id_number": number, "phone_code": standin_phone_code(phone)},
        )
        assert r.status_code == 404
    login = await miniapp_login(client)
    r = await client.post(
        "/miniapp/v1/binding",
        headers=auth(login["token"]),
        json={"name": person.name, "id_number": number, "phone_code": standin_phone_code(phone)},
    )
    assert r.status_code == 429 and r.json()["limit"] == "binding_person"
    # Another person's binding is not affected.
    other, other_number, other_phone = await enrolled_person()
    r = await client.post(
        "/miniapp/v1/binding",
        headers=auth(login["token"]),
        json={
            "name": other.name,
            "id_number": other_number,
            "phone_code": standin_phone_code(other_phone),
        },
    )
    assert r.status_code == 201


async def test_qr_ticket_creation_limited(client_at):
    web = client_at("10.77.0.1")
    for _ in range(ratelimit.QR_CREATE.limit):
        # A fresh X-Forwarded-For each time changes nothing: no proxy is trusted here.
        spoof = {"X-Forwarded-For": f"10.78.0.{_}"}
        assert (await web.post("/admin/v1/auth/qr/tickets", headers=spoof)).status_code == 201
    r = await web.post("/admin/v1/auth/qr/tickets", headers={"X-Forwarded-For": "10.79.0.1"})
    assert r.status_code == 429 and r.json()["limit"] == "qr_create"


async def test_qr_tickets_limited_for_everybody_together(client_at, redis):
    """Many addresses together cannot spend WeChat's getwxacodeunlimit quota either."""
    key = f"rl:{ratelimit.QR_CREATE_ALL.name}:all"
    now = time.time()
    # The window as a thousand other callers left it in the last minute.
    await redis.zadd(key, {f"other-{i}": now - 30 for i in range(ratelimit.QR_CREATE_ALL.limit)})
    r = await client_at("10.81.0.1").post("/admin/v1/auth/qr/tickets")
    assert r.status_code == 429 and r.json()["limit"] == "qr_create_all"
    assert 25 <= r.json()["retry_after"] <= 31 and "企业登录" in r.json()["message"]
    await redis.zremrangebyscore(key, 0, now)  # their minute is over
    assert (await client_at("10.81.0.1").post("/admin/v1/auth/qr/tickets")).status_code == 201


async def test_window_slides(redis):
    tiny = ratelimit.Limit("test_tiny", 2, 1)
    key = uid()
    await ratelimit.hit(redis, tiny, key)
    await ratelimit.hit(redis, tiny, key)
    with pytest.raises(RateLimited) as err:
        await ratelimit.hit(redis, tiny, key)
    assert err.value.extra["retry_after"] == 1
    await asyncio.sleep(1.05)
    assert await ratelimit.hit(redis, tiny, key) == 1

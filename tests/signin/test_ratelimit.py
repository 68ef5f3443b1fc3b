"""Rate limits on login, QR and binding endpoints: 429, Chinese message, retry_after."""

from __future__ import annotations

import asyncio

import pytest

from realname.errors import RateLimited
from services import ratelimit
from tests.conftest import uid
from tests.factories import auth
from tests.signin.conftest import enrolled_person, miniapp_login


async def test_miniapp_login_limited_per_ip(client):
    ip = {"X-Forwarded-For": "10.9.0.7"}
    limit = ratelimit.MINIAPP_LOGIN.limit
    for _ in range(limit):
        r = await client.post("/miniapp/v1/auth/login", json={"code": "dev-same"}, headers=ip)
        assert r.status_code == 200
    r = await client.post("/miniapp/v1/auth/login", json={"code": "dev-same"}, headers=ip)
    assert r.status_code == 429
    body = r.json()
    assert body["code"] == "rate_limited" and "频繁" in body["message"]
    assert 1 <= body["retry_after"] <= ratelimit.MINIAPP_LOGIN.window
    # Another address is not affected.
    r = await client.post(
        "/miniapp/v1/auth/login",
        json={"code": "dev-same"},
        headers={"X-Forwarded-For": "10.200.1.1"},
    )
    assert r.status_code == 200


async def test_binding_limited_per_account(client):
    person, number, phone = await enrolled_person()
    login = await miniapp_login(client)
    for _ in range(ratelimit.BINDING.limit):
        r = await client.post(
            "/miniapp/v1/binding",
            headers=auth(login["token"]),
            json={"name": "猜测", "id_number": number, "phone_code": f"phone-{phone}"},
        )
        assert r.status_code == 404
    # Even the right answer is refused until the window has passed.
    r = await client.post(
        "/miniapp/v1/binding",
        headers=auth(login["token"]),
        json={"name": person.name, "id_number": number, "phone_code": f"phone-{phone}"},
    )
    assert r.status_code == 429 and r.json()["limit"] == "binding"
    assert "实名绑定" in r.json()["message"]


async def test_qr_ticket_creation_limited(client):
    ip = {"X-Forwarded-For": "10.77.0.1"}
    for _ in range(ratelimit.QR_CREATE.limit):
        assert (await client.post("/admin/v1/auth/qr/tickets", headers=ip)).status_code == 201
    r = await client.post("/admin/v1/auth/qr/tickets", headers=ip)
    assert r.status_code == 429 and r.json()["limit"] == "qr_create"


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

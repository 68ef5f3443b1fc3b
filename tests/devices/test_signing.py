"""Every error code of the native protocol's identity and signing layer."""

from __future__ import annotations

import time

from models import Device, UnregisteredDevice
from services import devices as svc
from tests.devices.helpers import call, make_device
from tests.factories import make_project
from tests.suite import uid


async def test_good_heartbeat_updates_contact(client):
    world = await make_project()
    dev = await make_device(world)
    r = await call(
        client, dev, "POST", "/device/v1/heartbeat", {"firmware": "1.4.2", "persons": 3, "faces": 2}
    )
    assert r.status_code == 200, r.text
    assert r.json()["commands"] == [] and "server_time" in r.json()
    device = await Device.get(sn=dev.sn)
    assert device.last_attendance_at is not None and device.firmware == "1.4.2"
    assert device.person_count == 3 and device.face_count == 2


async def test_collection_machine_contact_is_collection(client):
    world = await make_project()
    dev = await make_device(world, kind="collection")
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {})
    assert r.status_code == 200
    device = await Device.get(sn=dev.sn)
    assert device.last_collection_at is not None and device.last_attendance_at is None


async def test_bad_signature(client):
    dev = await make_device(await make_project())
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {}, secret="wrong-secret")
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"


async def test_body_tampered_is_bad_signature(client):
    dev = await make_device(await make_project())
    body = b'{"firmware": "1"}'
    h = svc.signed_headers(dev.sn, dev.secret, "POST", "/device/v1/heartbeat", body)
    r = await client.post("/device/v1/heartbeat", content=b'{"firmware": "2"}', headers=h)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"


async def test_query_string_is_signed(client):
    dev = await make_device(await make_project())
    h = svc.signed_headers(dev.sn, dev.secret, "GET", "/device/v1/persons", b"")
    r = await client.get("/device/v1/persons?cursor=1.0", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"
    r = await call(client, dev, "GET", "/device/v1/persons?cursor=1.0")
    assert r.status_code == 200


async def test_missing_headers_named(client):
    dev = await make_device(await make_project())
    r = await client.post("/device/v1/heartbeat", headers={"X-Device-SN": dev.sn})
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"
    assert r.json()["field"] == "X-Timestamp"


async def test_signature_expired_carries_server_time(client):
    dev = await make_device(await make_project())
    r = await call(
        client, dev, "POST", "/device/v1/heartbeat", {}, timestamp=int(time.time()) - 301
    )
    body = r.json()
    assert r.status_code == 401 and body["code"] == "signature_expired"
    assert abs(body["server_time"] - time.time()) < 5
    r = await call(
        client, dev, "POST", "/device/v1/heartbeat", {}, timestamp=int(time.time()) + 400
    )
    assert r.json()["code"] == "signature_expired"


async def test_replayed_nonce(client):
    dev = await make_device(await make_project())
    nonce = uid("nonce-") + "abcdef"
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {}, nonce=nonce)
    assert r.status_code == 200
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {}, nonce=nonce)
    assert r.status_code == 401 and r.json()["code"] == "replayed_nonce"


async def test_short_nonce_rejected(client):
    dev = await make_device(await make_project())
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {}, nonce="short")
    assert r.status_code == 401 and r.json()["field"] == "X-Nonce"


async def test_device_unknown_recorded(client):
    sn = uid("GHOST")
    h = svc.signed_headers(sn, "whatever", "POST", "/device/v1/heartbeat", b"")
    r = await client.post("/device/v1/heartbeat", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "device_unknown"
    seen = await UnregisteredDevice.get(sn=sn)
    assert seen.protocol == "native" and seen.count == 1


async def test_device_unbound(client):
    dev = await make_device(None)
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {})
    assert r.status_code == 403 and r.json()["code"] == "device_unbound"


async def test_device_offline_forced(client):
    dev = await make_device(await make_project())
    device = await Device.get(sn=dev.sn)
    await svc.set_forced_offline(device, True)
    r = await call(client, dev, "POST", "/device/v1/punches", {"punches": []})
    assert r.status_code == 403 and r.json()["code"] == "device_offline_forced"
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {})
    assert r.status_code == 403 and r.json()["code"] == "device_offline_forced"


async def test_too_large(client):
    dev = await make_device(await make_project())
    items = [{"id": str(i)} for i in range(501)]
    r = await call(client, dev, "POST", "/device/v1/punches", {"punches": items})
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    big = b'{"firmware": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    r = await call(client, dev, "POST", "/device/v1/heartbeat", raw=big)
    assert r.status_code == 413 and r.json()["code"] == "too_large"


async def test_malformed_bodies_name_the_field(client):
    dev = await make_device(await make_project())
    r = await call(client, dev, "POST", "/device/v1/punches", raw=b"{not json")
    assert r.status_code == 400 and r.json()["field"] == "body"
    r = await call(client, dev, "POST", "/device/v1/punches", {"punches": "x"})
    assert r.status_code == 422 and r.json()["field"] == "punches"
    r = await call(client, dev, "POST", "/device/v1/punches", {"punches": []})
    assert r.status_code == 422 and r.json()["field"] == "punches"
    r = await call(client, dev, "POST", "/device/v1/heartbeat", {"persons": "many"})
    assert r.status_code == 422 and r.json()["field"] == "persons"


async def test_nonce_client_is_set_nx_ex_and_reconnects(redis_handle, app):
    """The lean nonce client: first SET NX wins, later ones see the key, the TTL is set, and a
    closed connection is reopened by the next call."""
    import asyncio

    from realname.nonce import nonce_client

    client = nonce_client(redis_handle.url, redis_handle.socket_path)
    assert client is not None
    key = uid("test:nonce:")
    results = await asyncio.gather(*[client.set(key, b"1", nx=True, ex=30) for _ in range(5)])
    assert results.count(True) == 1 and results.count(None) == 4
    assert 0 < await app.ctx.redis.ttl(key) <= 30
    await client.aclose()
    assert await client.set(key + "b", b"1", nx=True, ex=30) is True
    assert await client.set(key + "b", b"1", nx=True, ex=30) is None
    await client.aclose()


async def test_nonce_client_fails_a_call_redis_never_answers():
    """A Redis that accepts the command but never replies: the call fails after REPLY_TIMEOUT
    (the request gets a 500 and the device retries), it does not hang the request."""
    import asyncio

    import pytest

    from realname.nonce import REPLY_TIMEOUT, NonceClient

    async def silent(reader, writer):
        await reader.read(1 << 16)  # takes the command, answers nothing
        await asyncio.sleep(60)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = NonceClient(host="127.0.0.1", port=port)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.set("k", b"1", nx=True, ex=30), REPLY_TIMEOUT + 10)
        assert time.monotonic() - started < REPLY_TIMEOUT + 5
    finally:
        await client.aclose()
        server.close()

"""WeChatService against the WeChat stand-in over real HTTP, with the token in a real Redis."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import zlib

import httpx
import pytest
import redis
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from config.settings import Settings
from integrations.wechat import WeChatError, WeChatService
from integrations.wechat.standin import standin_openid, standin_session_key

TOKEN_KEY = "wechat:wx-dev-appid_access_token"


def tokens_issued(base: str) -> int:
    """How many access tokens the stand-in has issued so far."""
    return httpx.get(f"{base}/_stats").json()["tokens_issued"]


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) chunks, checking signature and CRCs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body)
        chunks.append((tag, body))
        pos += 12 + length
    return chunks


def encrypt_for_wechat(session_key: str, iv: bytes, payload: dict) -> str:
    """Encrypt like WeChat does for encryptedData: AES-128-CBC, PKCS#7, base64."""
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(payload).encode()) + padder.finalize()
    cipher = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(cipher.update(plain) + cipher.finalize()).decode()


@pytest.fixture
async def wechat(wechat_settings: Settings, sync_redis: redis.Redis):
    """A WeChatService on the stand-in and the test Redis."""
    service = WeChatService(wechat_settings, sync_redis)
    yield service
    await service.close()


async def test_code_to_session_maps_dev_codes(wechat: WeChatService, wechat_base: str) -> None:
    before = tokens_issued(wechat_base)
    session = await wechat.code_to_session("dev-alice")
    assert session == {
        "openid": standin_openid("alice"),
        "unionid": None,
        "session_key": standin_session_key("alice"),
    }
    assert (await wechat.code_to_session("dev-alice"))["openid"] == session["openid"]
    assert (await wechat.code_to_session("dev-bob"))["openid"] != session["openid"]
    # jscode2session is authenticated by appid + secret: no access token is fetched for a login.
    assert tokens_issued(wechat_base) == before


async def test_code_to_session_bad_code(wechat: WeChatService) -> None:
    with pytest.raises(WeChatError) as info:
        await wechat.code_to_session("not-a-dev-code")
    assert info.value.code == "wechat_invalid_code"
    assert info.value.errcode == 40029
    assert info.value.status == 400
    assert "重新进入小程序" in info.value.message


async def test_token_fetched_once_and_shared_through_redis(
    wechat_settings: Settings, sync_redis: redis.Redis, wechat_base: str
) -> None:
    first = WeChatService(wechat_settings, sync_redis)
    second = WeChatService(wechat_settings, sync_redis)
    before = tokens_issued(wechat_base)
    try:
        assert await first.get_phone_number("phone-13800138000") == "13800138000"
        assert await second.get_phone_number("phone-13900139000") == "13900139000"
        await second.get_unlimited_qr("p=1")
    finally:
        await first.close()
        await second.close()
    assert tokens_issued(wechat_base) == before + 1
    # Cached shorter than WeChat's 7200 s, so it is never used at its last second.
    assert 0 < sync_redis.ttl(TOKEN_KEY) <= 7200 - 300


async def test_concurrent_first_calls_fetch_one_token(
    wechat_settings: Settings, sync_redis: redis.Redis, wechat_base: str
) -> None:
    services = [WeChatService(wechat_settings, sync_redis) for _ in range(2)]
    before = tokens_issued(wechat_base)
    try:
        phones = await asyncio.gather(
            *(services[i % 2].get_phone_number(f"phone-1380000000{i}") for i in range(6))
        )
    finally:
        for service in services:
            await service.close()
    assert phones == [f"1380000000{i}" for i in range(6)]
    assert tokens_issued(wechat_base) == before + 1


async def test_rejected_token_is_refreshed_and_call_retried(
    wechat: WeChatService, sync_redis: redis.Redis, wechat_base: str
) -> None:
    await wechat.get_phone_number("phone-13800138000")
    sync_redis.set(TOKEN_KEY, json.dumps("standin-revoked"), ex=3600)
    before = tokens_issued(wechat_base)
    assert await wechat.get_phone_number("phone-13800138001") == "13800138001"
    assert tokens_issued(wechat_base) == before + 1
    assert json.loads(sync_redis.get(TOKEN_KEY)) not in (None, "standin-revoked")


async def test_unlimited_qr_is_png_carrying_scene(wechat: WeChatService) -> None:
    png = await wechat.get_unlimited_qr("t=AbC123", "pages/scan/index")
    chunks = png_chunks(png)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    texts = dict(body.split(b"\0", 1) for tag, body in chunks if tag == b"tEXt")
    assert texts == {b"scene": b"t=AbC123", b"page": b"pages/scan/index"}
    idat = b"".join(body for tag, body in chunks if tag == b"IDAT")
    assert len(zlib.decompress(idat)) == height * (width + 1)


async def test_scene_too_long_is_a_wechat_error(wechat: WeChatService) -> None:
    with pytest.raises(WeChatError) as info:
        await wechat.get_unlimited_qr("x" * 33)
    assert info.value.code == "wechat_error"
    assert info.value.errcode == 40169


async def test_phone_number_bad_code(wechat: WeChatService) -> None:
    with pytest.raises(WeChatError) as info:
        await wechat.get_phone_number("13800138000")
    assert info.value.code == "wechat_invalid_code"
    assert info.value.errcode == 40029
    assert "手机号" in info.value.message


async def test_decrypt_encrypted_data(wechat: WeChatService, wechat_settings: Settings) -> None:
    session_key = (await wechat.code_to_session("dev-carol"))["session_key"]
    iv = os.urandom(16)
    payload = {"phoneNumber": "13700137000", "watermark": {"appid": wechat_settings.wechat_appid}}
    data = encrypt_for_wechat(session_key, iv, payload)
    iv_b64 = base64.b64encode(iv).decode()
    assert await wechat.decrypt(session_key, data, iv_b64) == payload

    foreign = encrypt_for_wechat(session_key, iv, {"watermark": {"appid": "wx-other"}})
    other_key = standin_session_key("someone-else")
    for key, blob in [(session_key, foreign), (other_key, data), (session_key, "bm90IGRhdGE=")]:
        with pytest.raises(WeChatError) as info:
            await wechat.decrypt(key, blob, iv_b64)
        assert info.value.code == "wechat_decrypt_failed"


async def test_unreachable_wechat_is_unavailable(sync_redis: redis.Redis, dead_url: str) -> None:
    settings = Settings(env="test", wechat_api_base=dead_url)
    service = WeChatService(settings, sync_redis, timeout=2)
    try:
        for call in (service.code_to_session, service.get_phone_number):
            with pytest.raises(WeChatError) as info:
                await call("dev-x")
            assert info.value.code == "wechat_unavailable"
            assert info.value.status == 503
    finally:
        await service.close()

"""WeChatService against the WeChat stand-in over real HTTP, with the token in a real Redis."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest
import redis
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from config.settings import Settings
from integrations.wechat import WeChatError, WeChatService
from integrations.wechat.standin import (
    standin_login_code,
    standin_openid,
    standin_phone_code,
    standin_session_key,
)
from tests.integrations.conftest import _serve

TOKEN_KEY = "wechat:wx-dev-appid_access_token"


def tokens_issued(base: str) -> int:
    """How many times the stand-in was asked for an access token (token or stable_token)."""
    stats = httpx.get(f"{base}/_stats").json()
    return stats["tokens_issued"] + stats["stable_token_calls"]


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
    session = await wechat.code_to_session(standin_login_code("alice"))
    assert session == {
        "openid": standin_openid("alice"),
        "unionid": None,
        "session_key": standin_session_key("alice"),
    }
    assert (await wechat.code_to_session(standin_login_code("alice")))["openid"] == session[
        "openid"
    ]
    assert (await wechat.code_to_session(standin_login_code("bob")))["openid"] != session["openid"]
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
        assert await first.get_phone_number(standin_phone_code("13800138000")) == "13800138000"
        assert await second.get_phone_number(standin_phone_code("13900139000")) == "13900139000"
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
            *(
                services[i % 2].get_phone_number(standin_phone_code(f"1380000000{i}"))
                for i in range(6)
            )
        )
    finally:
        for service in services:
            await service.close()
    assert phones == [f"1380000000{i}" for i in range(6)]
    assert tokens_issued(wechat_base) == before + 1


async def test_rejected_token_is_refreshed_and_call_retried(
    wechat: WeChatService, sync_redis: redis.Redis, wechat_base: str
) -> None:
    await wechat.get_phone_number(standin_phone_code("13800138000"))
    sync_redis.set(TOKEN_KEY, json.dumps("standin-revoked"), ex=3600)
    before = tokens_issued(wechat_base)
    assert await wechat.get_phone_number(standin_phone_code("13800138001")) == "13800138001"
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
    session_key = (await wechat.code_to_session(standin_login_code("carol")))["session_key"]
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


# --- as strict as WeChat (issue 12, items 5 and 6) ------------------------------------------------


async def test_login_and_phone_codes_are_single_use(wechat: WeChatService) -> None:
    code = standin_login_code("dan")
    await wechat.code_to_session(code)
    with pytest.raises(WeChatError) as info:
        await wechat.code_to_session(code)
    assert (info.value.errcode, info.value.code, info.value.status) == (
        40163,
        "wechat_invalid_code",
        400,
    )
    phone_code = standin_phone_code("13700001111")
    assert await wechat.get_phone_number(phone_code) == "13700001111"
    with pytest.raises(WeChatError) as info:
        await wechat.get_phone_number(phone_code)
    assert info.value.errcode == 40163 and "手机号" in info.value.message


async def test_high_risk_user_is_403(wechat: WeChatService) -> None:
    with pytest.raises(WeChatError) as info:
        await wechat.code_to_session(standin_login_code("highrisk7"))
    assert (info.value.errcode, info.value.code, info.value.status) == (
        40226,
        "wechat_user_blocked",
        403,
    )
    assert "安全风险" in info.value.message


async def test_scene_charset_and_length(wechat: WeChatService) -> None:
    assert (await wechat.get_unlimited_qr("x" * 32))[:4] == b"\x89PNG"
    assert (await wechat.get_unlimited_qr("a=1&b_2-~!*"))[:4] == b"\x89PNG"
    for scene in ("x" * 33, "票据", "a b", "100%"):
        with pytest.raises(WeChatError) as info:
            await wechat.get_unlimited_qr(scene)
        assert info.value.errcode == 40169, scene


async def test_page_and_env_version_checked(wechat: WeChatService) -> None:
    published = "pages/scan/index"  # the stand-in's published page (the settings' default)
    assert await wechat.get_unlimited_qr("s1", published, check_path=True)
    # Not published: allowed only without check_path, as on WeChat.
    assert await wechat.get_unlimited_qr("s1", "pages/draft/index", check_path=False)
    for page, check in (("pages/draft/index", True), ("/pages/scan/index", False)):
        with pytest.raises(WeChatError) as info:
            await wechat.get_unlimited_qr("s1", page, check_path=check)
        assert (info.value.errcode, info.value.code, info.value.status) == (
            41030,
            "wechat_page_invalid",
            503,
        )
        assert "WECHAT_MINIAPP_PAGE" in info.value.message
    with pytest.raises(WeChatError) as info:
        await wechat.get_unlimited_qr("s1", published, env_version="beta")
    assert info.value.errcode == 40097


def test_page_setting_checked_at_start() -> None:
    for page in ("/pages/scan/index", "pages/scan/index?x=1", ""):
        with pytest.raises(ValueError, match="WECHAT_MINIAPP_PAGE"):
            Settings(env="test", wechat_miniapp_page=page)


async def test_stable_token_by_default_classic_on_request(
    wechat_settings: Settings, sync_redis: redis.Redis, wechat_base: str
) -> None:
    stats = httpx.get(f"{wechat_base}/_stats").json()
    await _phone_number(wechat_settings, sync_redis, "13700002222")
    after = httpx.get(f"{wechat_base}/_stats").json()
    assert after["stable_token_calls"] == stats["stable_token_calls"] + 1
    assert after["tokens_issued"] == stats["tokens_issued"]

    sync_redis.flushdb()
    classic = Settings(env="test", wechat_api_base=wechat_base, wechat_stable_token=False)
    await _phone_number(classic, sync_redis, "13700003333")
    assert httpx.get(f"{wechat_base}/_stats").json()["tokens_issued"] == stats["tokens_issued"] + 1


async def _phone_number(settings: Settings, sync_redis: redis.Redis, phone: str) -> None:
    """One phone-number call by a fresh service of `settings` (which fetches its token)."""
    service = WeChatService(settings, sync_redis)
    try:
        await service.get_phone_number(standin_phone_code(phone))
    finally:
        await service.close()


def _other_system_token(base: str) -> str:
    """Another system sharing the AppID takes a classic token."""
    r = httpx.get(
        f"{base}/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": "wx-dev-appid",
            "secret": "wx-dev-secret",
        },
    )
    return r.json()["access_token"]


def _token_works(base: str, token: str) -> int:
    """errcode of a phone-number call with `token` (0 when the token is accepted)."""
    r = httpx.post(
        f"{base}/wxa/business/getuserphonenumber",
        params={"access_token": token},
        json={"code": standin_phone_code("13700004444")},
    )
    return int(r.json()["errcode"])


@pytest.fixture(scope="module")
def strict_wechat_base() -> Iterator[str]:
    """A WeChat stand-in with short lifetimes and a tiny QR quota, in its own process."""
    yield from _serve(
        "integrations.wechat.standin",
        code_ttl=3,
        old_token_grace=3,
        token_expires_in=8,
        qr_per_minute=3,
    )


async def test_classic_token_expires_other_systems_token_stable_does_not(
    strict_wechat_base: str, sync_redis: redis.Redis
) -> None:
    theirs = _other_system_token(strict_wechat_base)
    assert _token_works(strict_wechat_base, theirs) == 0
    stable = Settings(env="test", wechat_api_base=strict_wechat_base)
    await _phone_number(stable, sync_redis, "13700005555")
    await asyncio.sleep(3.2)  # past the grace a replaced classic token would get
    assert _token_works(strict_wechat_base, theirs) == 0  # stable_token left it alone

    sync_redis.flushdb()
    classic = Settings(env="test", wechat_api_base=strict_wechat_base, wechat_stable_token=False)
    await _phone_number(classic, sync_redis, "13700006666")
    assert _token_works(strict_wechat_base, theirs) == 0  # still inside the grace period...
    await asyncio.sleep(3.2)
    assert _token_works(strict_wechat_base, theirs) in (40001, 42001)  # ...then it is dead


def _stable(base: str, force: bool) -> dict:
    body = {
        "grant_type": "client_credential",
        "appid": "wx-dev-appid",
        "secret": "wx-dev-secret",
        "force_refresh": force,
    }
    return httpx.post(f"{base}/cgi-bin/stable_token", json=body).json()


async def test_stable_token_force_refresh_and_recovery(
    strict_wechat_base: str, sync_redis: redis.Redis
) -> None:
    first = _stable(strict_wechat_base, False)["access_token"]
    assert _stable(strict_wechat_base, False)["access_token"] == first
    r = httpx.get(f"{strict_wechat_base}/cgi-bin/stable_token")
    assert r.status_code == 405  # POST only
    service = WeChatService(Settings(env="test", wechat_api_base=strict_wechat_base), sync_redis)
    try:
        await service.get_phone_number(standin_phone_code("13700007777"))
        # Another system force-refreshes: our cached token dies at once...
        forced = _stable(strict_wechat_base, True)["access_token"]
        assert forced != first and _token_works(strict_wechat_base, first) == 40001
        # ...and the next call refreshes (normal mode returns the new token) and succeeds.
        assert await service.get_phone_number(standin_phone_code("13700008888")) == "13700008888"
        assert json.loads(sync_redis.get(TOKEN_KEY)) == forced
    finally:
        await service.close()
    assert _stable(strict_wechat_base, True)["errcode"] == 45011  # 30 s between force refreshes


async def test_minted_code_expires(strict_wechat_base: str, sync_redis: redis.Redis) -> None:
    service = WeChatService(Settings(env="test", wechat_api_base=strict_wechat_base), sync_redis)
    try:
        fresh = httpx.post(f"{strict_wechat_base}/_mint/login_code", json={"user": "gus"}).json()
        assert (await service.code_to_session(fresh["code"]))["openid"] == standin_openid("gus")
        stale = httpx.post(f"{strict_wechat_base}/_mint/login_code", json={"user": "gus"}).json()
        phone = httpx.post(f"{strict_wechat_base}/_mint/phone_code", json={"phone": "13700009999"})
        await asyncio.sleep(3.3)
        with pytest.raises(WeChatError) as info:
            await service.code_to_session(stale["code"])
        assert info.value.errcode == 40029
        with pytest.raises(WeChatError) as info:
            await service.get_phone_number(phone.json()["code"])
        assert info.value.errcode == 40029
    finally:
        await service.close()


async def test_qr_minute_quota_is_429(strict_wechat_base: str, sync_redis: redis.Redis) -> None:
    service = WeChatService(Settings(env="test", wechat_api_base=strict_wechat_base), sync_redis)
    try:
        for i in range(3):
            await service.get_unlimited_qr(f"q{i}")
        with pytest.raises(WeChatError) as info:
            await service.get_unlimited_qr("q4")
    finally:
        await service.close()
    assert (info.value.errcode, info.value.code, info.value.status) == (
        45009,
        "wechat_rate_limited",
        429,
    )
    assert info.value.to_dict()["retry_after"] == 60 and "一分钟" in info.value.message


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/_mint/login_code", {"user": "有空格 的用户"}, "user"),
        ("/_mint/phone_code", {"phone": "not-a-phone"}, "phone"),
    ],
)
def test_mint_refuses_what_no_code_can_carry(
    wechat_base: str, path: str, body: dict[str, str], field: str
) -> None:
    r = httpx.post(f"{wechat_base}{path}", json=body).json()
    assert r == {"errcode": 40097, "errmsg": f"invalid args: {field}"}

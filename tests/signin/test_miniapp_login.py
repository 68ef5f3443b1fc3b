"""Mini-program login (code2session against the WeChat stand-in) and the session_key rule."""

from __future__ import annotations

from integrations.wechat.standin import standin_login_code, standin_openid, standin_session_key
from models import Account, AuditLog
from services import identity, signin
from tests.factories import auth
from tests.signin.conftest import miniapp_login
from tests.suite import uid


async def test_login_creates_person_account_and_keeps_session_key_server_side(client, redis):
    suffix = uid()
    body = await miniapp_login(client, standin_login_code(suffix))
    assert body["account"]["kind"] == "person" and body["binding"] == {
        "bound": False,
        "request": None,
    }
    assert "session_key" not in str(body) and standin_session_key(suffix) not in str(body)
    account = await Account.get(wechat_openid__isnull=False, id=await _account_id(redis, body))
    assert await signin.session_key_of(redis, account.id) == standin_session_key(suffix)
    # The same WeChat user logging in again gets the same account.
    again = await miniapp_login(client, standin_login_code(suffix))
    assert await _account_id(redis, again) == account.id
    assert await AuditLog.filter(action="signin.miniapp", actor_id=str(account.id)).count() == 2


async def _account_id(redis, body) -> int:
    """The account behind a reply's token."""
    return (await identity.resolve_token(redis, body["token"])).account_id


async def test_login_bad_input(client):
    r = await client.post("/miniapp/v1/auth/login", json={})
    assert r.status_code == 422 and r.json() == {
        "code": "required",
        "message": "缺少微信登录凭证 code",
        "field": "code",
    }
    r = await client.post("/miniapp/v1/auth/login", json={"code": "not-a-dev-code"})
    assert r.status_code == 400 and r.json()["code"] == "wechat_invalid_code"
    r = await client.post(
        "/miniapp/v1/auth/login", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["code"] == "malformed_json"


async def test_logout(client):
    body = await miniapp_login(client)
    r = await client.post("/miniapp/v1/auth/logout", headers=auth(body["token"]))
    assert r.status_code == 200
    r = await client.get("/miniapp/v1/auth/me", headers=auth(body["token"]))
    assert r.status_code == 401


async def test_reused_code_and_high_risk_user(client):
    code = standin_login_code(uid())
    await miniapp_login(client, code)
    r = await client.post("/miniapp/v1/auth/login", json={"code": code})
    assert r.status_code == 400 and r.json()["code"] == "wechat_invalid_code"
    assert "重新进入小程序" in r.json()["message"]
    r = await client.post("/miniapp/v1/auth/login", json={"code": standin_login_code("highrisk1")})
    assert r.status_code == 403 and r.json()["code"] == "wechat_user_blocked"
    assert "安全风险" in r.json()["message"]
    assert not await Account.exists(wechat_openid=standin_openid("highrisk1"))

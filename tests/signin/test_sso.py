"""Enterprise SSO against the provincial identity stand-in (a real HTTP server)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from models import AuditLog
from tests.factories import auth, make_credit_code, make_enterprise, make_project
from tests.signin.conftest import synced_project


async def _authorize(client: httpx.AsyncClient, credit_code: str) -> str:
    """Start sign-in at our API, pass the stand-in's authorize step; return the callback URL."""
    r = await client.get("/admin/v1/auth/sso/start")
    assert r.status_code == 302
    authorize_url = r.headers["location"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]
    async with httpx.AsyncClient() as browser:  # the user's browser at the identity platform
        r = await browser.get(f"{authorize_url}&{urlencode({'login_hint': credit_code})}")
    assert r.status_code == 302, r.text
    callback = r.headers["location"]
    parts = urlsplit(callback)
    assert parts.path == "/admin/v1/auth/sso/callback"
    return f"{parts.path}?{parts.query}"


async def test_company_on_synced_project_signs_in(client):
    world = await synced_project()
    gc = world.enterprises["gc"]
    callback = await _authorize(client, gc.credit_code)
    r = await client.get(callback)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["account"] == {"kind": "enterprise", "display_name": gc.name}
    assert "token=" in r.headers.get("set-cookie", "")
    r = await client.get("/admin/v1/auth/me", headers=auth(body["token"]))
    assert r.status_code == 200
    assert [p["code"] for p in r.json()["projects"]] == [world.project.code]
    assert await AuditLog.filter(action="signin.sso", target=gc.credit_code).exists()
    # The state was single use: replaying the callback is refused.
    r = await client.get(callback)
    assert r.status_code == 403 and r.json()["code"] == "sso_state_invalid"


async def test_company_without_synced_project_is_told_why(client):
    unsynced = await make_project()  # a participating unit, but the project is not synced
    stranger = await make_enterprise()
    for code in (unsynced.enterprises["gc"].credit_code, stranger.credit_code, make_credit_code()):
        r = await client.get(await _authorize(client, code))
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["code"] == "enterprise_not_on_project"
        assert "【项目查询】" in body["message"] and "青海省工程建设云" in body["message"]
    assert await AuditLog.filter(action="signin.sso_refused", target=stranger.credit_code).exists()


async def test_forged_or_missing_state_refused(client):
    world = await synced_project()
    callback = await _authorize(client, world.enterprises["gc"].credit_code)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    r = await client.get("/admin/v1/auth/sso/callback", params={"code": code, "state": "forged"})
    assert r.status_code == 403
    assert r.json()["code"] == "sso_state_invalid" and r.json()["field"] == "state"
    r = await client.get("/admin/v1/auth/sso/callback", params={"code": code})
    assert r.status_code == 403 and r.json()["code"] == "sso_state_invalid"


async def test_next_path_redirects_with_cookie_and_open_redirect_refused(client):
    world = await synced_project()
    r = await client.get("/admin/v1/auth/sso/start", params={"next": "//evil.example/x"})
    assert r.status_code == 422 and r.json()["field"] == "next"
    r = await client.get("/admin/v1/auth/sso/start", params={"next": "/workbench", "mode": "json"})
    authorize_url = r.json()["authorize_url"]
    async with httpx.AsyncClient() as browser:
        hint = urlencode({"login_hint": world.enterprises["gc"].credit_code})
        r = await browser.get(f"{authorize_url}&{hint}")
    parts = urlsplit(r.headers["location"])
    r = await client.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 302 and r.headers["location"] == "/workbench"
    assert "token=" in r.headers["set-cookie"] and "httponly" in r.headers["set-cookie"].lower()


async def test_logout_revokes_token(client):
    world = await synced_project()
    r = await client.get(await _authorize(client, world.enterprises["gc"].credit_code))
    token = r.json()["token"]
    r = await client.post("/admin/v1/auth/logout", headers=auth(token))
    assert r.status_code == 200
    r = await client.get("/admin/v1/auth/me", headers=auth(token))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_login_csrf_callback_from_another_browser_refused(client_at):
    """Issue 12 item 2: a victim opening the attacker's callback URL is not signed in."""
    world = await synced_project()
    attacker = client_at("198.51.100.66")
    callback = await _authorize(attacker, world.enterprises["gc"].credit_code)
    assert "sso_nonce" in attacker.cookies.keys()

    victim = client_at("198.51.100.67")
    r = await victim.get(callback)  # no sso_nonce cookie at all
    assert r.status_code == 403 and r.json()["code"] == "sso_state_invalid"
    assert "浏览器" in r.json()["message"]
    assert "token=" not in r.headers.get("set-cookie", "")
    refused = await AuditLog.filter(action="signin.sso_refused", ip="198.51.100.67").first()
    assert refused is not None and refused.detail == {"reason": "browser_mismatch"}
    # The attacker's state was spent by that attempt: the link works for nobody any more.
    r = await attacker.get(callback)
    assert r.status_code == 403 and r.json()["code"] == "sso_state_invalid"

    # A victim who started a sign-in of their own holds a different nonce: still refused.
    callback = await _authorize(attacker, world.enterprises["gc"].credit_code)
    r = await victim.get("/admin/v1/auth/sso/start")
    assert r.status_code == 302 and "sso_nonce" in victim.cookies.keys()
    r = await victim.get(callback)
    assert r.status_code == 403 and r.json()["code"] == "sso_state_invalid"


async def test_nonce_cookie_is_short_lived_and_scoped(client_at):
    browser = client_at("198.51.100.68")
    r = await browser.get("/admin/v1/auth/sso/start", params={"mode": "json"})
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("sso_nonce=") and "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/admin/v1/auth/sso" in cookie and "max-age=600" in cookie

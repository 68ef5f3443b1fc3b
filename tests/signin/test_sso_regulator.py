"""主管部门登录 through the provincial identity stand-in, and refusals shown to a browser."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from config.settings import get_settings
from integrations.idauth.client import IdAuthClient, IdAuthError
from models import Account, AccountKind, AuditLog
from services import accounts
from tests.factories import auth, make_enterprise
from tests.signin.conftest import synced_project


async def _callback(client: httpx.AsyncClient, hint: str, **start: str) -> str:
    """Start at our API (``start`` query), pick ``hint`` at the stand-in; the callback URL."""
    r = await client.get("/admin/v1/auth/sso/start", params={"mode": "json", **start})
    assert r.status_code == 200, r.text
    async with httpx.AsyncClient() as browser:  # the user's browser at the identity platform
        r = await browser.get(f"{r.json()['authorize_url']}&{urlencode({'login_hint': hint})}")
    assert r.status_code == 302, r.text
    parts = urlsplit(r.headers["location"])
    return f"{parts.path}?{parts.query}"


async def test_regulator_department_signs_in_to_its_region(client):
    callback = await _callback(client, "regulator:630102", kind="regulator", next="/regulator")
    r = await client.get(callback)
    assert r.status_code == 302 and r.headers["location"] == "/regulator"
    token = r.cookies.get("token") or r.headers["set-cookie"].split("token=")[1].split(";")[0]
    r = await client.get("/admin/v1/auth/me", headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "regulator" and "主管部门" in r.json()["display_name"]
    # the regulator side answers: the review queue of its region
    r = await client.get("/admin/v1/reviews/status-changes", headers=auth(token))
    assert r.status_code == 200, r.text
    assert await AuditLog.filter(action="signin.sso", target="630102").exists()


async def test_same_region_twice_is_one_account(client):
    tokens = []
    for _ in range(2):
        r = await client.get(await _callback(client, "regulator:630100", kind="regulator"))
        assert r.status_code == 200, r.text
        assert r.json()["account"]["kind"] == "regulator"
        tokens.append(r.json()["token"])
    ids = set()
    for token in tokens:
        me = await client.get("/admin/v1/auth/me", headers=auth(token))
        ids.add(me.json()["display_name"])
    assert len(ids) == 1


async def test_a_second_account_of_the_region_does_not_lock_it_out(client):
    """Two regulator accounts of one region (made before sign-in found the first, or two first
    sign-ins at once): the department still signs in, as the older one."""
    first = await accounts.regulator_account("630102")
    await Account.create(kind=AccountKind.REGULATOR, region_id="630102", display_name="第二个")
    assert (await accounts.regulator_account("630102")).id == first.id
    r = await client.get(await _callback(client, "regulator:630102", kind="regulator"))
    assert r.status_code == 200, r.text
    me = await client.get("/admin/v1/auth/me", headers=auth(r.json()["token"]))
    assert me.json()["display_name"] == first.display_name


async def test_wrong_entry_is_told_which_to_use(client):
    world = await synced_project()
    gc = world.enterprises["gc"].credit_code
    # a company through 主管部门登录
    r = await client.get(await _callback(client, gc, kind="regulator"))
    assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind"
    assert "【企业登录】" in r.json()["message"]
    # a department through 企业登录
    r = await client.get(await _callback(client, "regulator:630102"))
    assert r.status_code == 403 and r.json()["code"] == "wrong_account_kind"
    assert "【主管部门登录】" in r.json()["message"]
    assert await AuditLog.filter(action="signin.sso_refused", target="630102").exists()


async def test_refusal_in_a_browser_lands_on_the_sign_in_page_with_the_reason(client):
    """Rule 9 refused in a browser: the console's sign-in page, the reason in a cookie it reads
    (set by us, scoped to /login, short-lived), not the JSON error."""
    stranger = await make_enterprise()
    callback = await _callback(client, stranger.credit_code, next="/workbench")
    r = await client.get(callback, headers={"Accept": "text/html,application/xhtml+xml,*/*"})
    assert r.status_code == 302, r.text
    assert r.headers["location"] == "/login?sso_error=enterprise_not_on_project"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("sso_error="))
    assert "Path=/login" in cookie and "Max-Age=120" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    assert payload["code"] == "enterprise_not_on_project"
    assert "【项目查询】" in payload["message"]
    # the API caller (no text/html) still gets the JSON error
    callback = await _callback(client, stranger.credit_code)
    r = await client.get(callback)
    assert r.status_code == 403 and r.json()["code"] == "enterprise_not_on_project"
    # a forged state in a browser: the sign-in page too
    r = await client.get(
        "/admin/v1/auth/sso/callback",
        params={"code": "x", "state": "forged"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 302
    assert parse_qs(urlsplit(r.headers["location"]).query) == {"sso_error": ["sso_state_invalid"]}


def test_regulator_claims_need_a_region_code_account_and_name():
    idauth = IdAuthClient(get_settings())
    who = idauth.map_claims({"sub": "d1", "legal_person_name": "某局", "region_code": "630102"})
    assert who.is_regulator and who.region_code == "630102" and who.credit_code == ""
    for bad in (
        {"sub": "d1", "legal_person_name": "某局", "region_code": "63010"},
        {"sub": "d1", "legal_person_name": "某局", "region_code": "西宁市"},
        {"sub": "", "legal_person_name": "某局", "region_code": "630102"},
        {"sub": "d1", "legal_person_name": "", "region_code": "630102"},
    ):
        try:
            idauth.map_claims(bad)
        except IdAuthError as exc:
            assert exc.code == "sso_bad_claims"
        else:
            raise AssertionError(bad)

"""IdAuthClient against the provincial-SSO stand-in over real HTTP: PKCE, state, claim mapping."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from stdnum.cn import uscc

from config.settings import Settings
from integrations.idauth import IdAuthClient, IdAuthError, verify_state
from integrations.idauth.standin import DEMO_COMPANIES, TITLE, account_id_for

COMPANY = DEMO_COMPANIES[0]
FREE_CODE = "91630121MA7QHJ009" + uscc.calc_check_digit("91630121MA7QHJ009")


async def authorize(url: str, login_hint: str, **extra: str) -> tuple[str, str]:
    """Play the browser: open the authorize URL with a login hint, return (code, state)."""
    async with httpx.AsyncClient(follow_redirects=False) as browser:
        # Appended by hand: httpx's `params=` would replace the URL's own query.
        resp = await browser.get(url + "&" + urlencode({"login_hint": login_hint, **extra}))
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    assert location.startswith(parse_qs(urlsplit(url).query)["redirect_uri"][0] + "?")
    query = parse_qs(urlsplit(location).query)
    return query["code"][0], query["state"][0]


@pytest.fixture
def idauth_settings(idauth_settings_factory: Callable[..., Settings]) -> Settings:
    """Default test settings for the SSO stand-in."""
    return idauth_settings_factory()


async def test_full_flow_maps_claims(idauth_settings: Settings) -> None:
    client = IdAuthClient(idauth_settings)
    url, state, verifier = client.authorization_url()
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [idauth_settings.effective_idauth_redirect_url]
    assert verifier not in url

    code, returned_state = await authorize(url, COMPANY["credit_code"])
    assert verify_state(state, returned_state)
    identity = await client.fetch_identity(code, verifier)
    assert identity.credit_code == COMPANY["credit_code"]
    assert identity.legal_person_name == COMPANY["name"]
    assert identity.account_id == account_id_for(COMPANY["credit_code"])
    assert identity.raw_claims["sub"] == identity.account_id


async def test_authorize_page_lists_demo_companies(idauth_settings: Settings) -> None:
    url, _, _ = IdAuthClient(idauth_settings).authorization_url()
    async with httpx.AsyncClient() as browser:
        resp = await browser.get(url)
    assert resp.status_code == 200
    assert TITLE in resp.text
    for company in DEMO_COMPANIES:
        assert company["name"] in resp.text and company["credit_code"] in resp.text


async def test_free_form_credit_code(idauth_settings: Settings) -> None:
    client = IdAuthClient(idauth_settings)
    url, _, verifier = client.authorization_url()
    code, _ = await authorize(url, FREE_CODE.lower(), company_name="湟源测试建筑有限公司")
    identity = await client.fetch_identity(code, verifier)
    assert (identity.credit_code, identity.legal_person_name) == (FREE_CODE, "湟源测试建筑有限公司")

    async with httpx.AsyncClient() as browser:
        resp = await browser.get(url + "&login_hint=916301000000000000")
    assert resp.status_code == 400 and "统一社会信用代码无效" in resp.text


async def test_reused_code_is_invalid_grant(idauth_settings: Settings) -> None:
    client = IdAuthClient(idauth_settings)
    url, _, verifier = client.authorization_url()
    code, _ = await authorize(url, COMPANY["credit_code"])
    await client.fetch_identity(code, verifier)
    with pytest.raises(IdAuthError) as info:
        await client.fetch_identity(code, verifier)
    assert info.value.code == "sso_invalid_grant"
    assert info.value.status == 400


async def test_wrong_pkce_verifier_is_invalid_grant(idauth_settings: Settings) -> None:
    client = IdAuthClient(idauth_settings)
    url, _, verifier = client.authorization_url()
    _, _, other_verifier = client.authorization_url()
    code, _ = await authorize(url, COMPANY["credit_code"])
    with pytest.raises(IdAuthError) as info:
        await client.fetch_identity(code, other_verifier)
    assert info.value.code == "sso_invalid_grant"
    # The code is burnt by the failed attempt, as RFC 6749 recommends.
    with pytest.raises(IdAuthError):
        await client.fetch_identity(code, verifier)


async def test_custom_claim_mapping(idauth_settings_factory: Callable[..., Settings]) -> None:
    settings = idauth_settings_factory(idauth_claim_name="name", idauth_claim_account="credit_code")
    client = IdAuthClient(settings)
    url, _, verifier = client.authorization_url()
    code, _ = await authorize(url, DEMO_COMPANIES[1]["credit_code"])
    identity = await client.fetch_identity(code, verifier)
    assert identity.account_id == DEMO_COMPANIES[1]["credit_code"]
    assert identity.legal_person_name == DEMO_COMPANIES[1]["name"]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"idauth_claim_credit_code": "uscc"}, "sso_bad_claims"),  # a claim the token lacks
        ({"idauth_client_secret": "wrong"}, "sso_unavailable"),  # the token exchange refused
    ],
    ids=["missing-claim", "wrong-client-secret"],
)
async def test_sign_in_refused_after_authorisation(
    idauth_settings_factory: Callable[..., Settings], setting: dict[str, str], expected: str
) -> None:
    client = IdAuthClient(idauth_settings_factory(**setting))
    url, _, verifier = client.authorization_url()
    code, _ = await authorize(url, COMPANY["credit_code"])
    with pytest.raises(IdAuthError) as info:
        await client.fetch_identity(code, verifier)
    assert info.value.code == expected


async def test_unreachable_platform_is_unavailable(
    idauth_settings_factory: Callable[..., Settings], dead_url: str
) -> None:
    client = IdAuthClient(idauth_settings_factory(idauth_base_url=dead_url), timeout=2)
    with pytest.raises(IdAuthError) as info:
        await client.fetch_identity("any-code", "v" * 64)
    assert info.value.code == "sso_unavailable"
    assert info.value.status == 503


def test_verify_state() -> None:
    assert verify_state("abc", "abc")
    assert not verify_state("abc", "abd")
    assert not verify_state("abc", None)
    assert not verify_state(None, "")


async def test_only_the_registered_redirect_uri_gets_codes(
    idauth_settings_factory: Callable[..., Settings],
) -> None:
    """The audit saw codes redirected to https://evil.example/cb; now the page refuses."""
    for redirect in (
        "https://evil.example/cb",
        "http://127.0.0.1:9/admin/v1/auth/sso/callback/../evil",
        "http://127.0.0.1:9/admin/v1/auth/sso/callback?x=1",
    ):
        client = IdAuthClient(idauth_settings_factory(idauth_redirect_url=redirect))
        url, _, _ = client.authorization_url()
        async with httpx.AsyncClient() as browser:
            resp = await browser.get(url + "&" + urlencode({"login_hint": COMPANY["credit_code"]}))
        assert resp.status_code == 400 and "location" not in resp.headers, redirect
        assert "未登记" in resp.text
    # The registered one still works.
    client = IdAuthClient(idauth_settings_factory())
    url, _, verifier = client.authorization_url()
    code, _ = await authorize(url, COMPANY["credit_code"])
    assert (await client.fetch_identity(code, verifier)).credit_code == COMPANY["credit_code"]

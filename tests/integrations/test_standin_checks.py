"""The WeChat stand-in checks a token-bearing call's token, then its JSON body, in that order."""

from __future__ import annotations

import httpx
import pytest

from tests.integrations.conftest import DEFAULTS

CALLS = ("/wxa/getwxacodeunlimit", "/wxa/business/getuserphonenumber")


@pytest.mark.parametrize("path", CALLS)
def test_bad_token_then_bad_body_refused(wechat_base: str, path: str) -> None:
    token = httpx.get(
        f"{wechat_base}/cgi-bin/token",
        params={
            "grant_type": "client_credential",
            "appid": DEFAULTS.wechat_appid,
            "secret": DEFAULTS.wechat_secret,
        },
    ).json()["access_token"]
    bad_token = httpx.post(f"{wechat_base}{path}", params={"access_token": "x"}, content=b"[")
    assert bad_token.json()["errcode"] == 40001  # the token first, before the body is read
    for body in (b"not json", b"[1, 2]"):
        r = httpx.post(f"{wechat_base}{path}", params={"access_token": token}, content=body)
        assert r.json()["errcode"] == 47001, body

"""The caller's address: the socket peer unless it is a trusted proxy (issue 12, item 1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from multidict import CIMultiDict

from integrations.wechat.standin import standin_login_code, standin_openid
from models import Account, AuditLog
from services import ratelimit
from services.identity import client_ip
from tests.signin.conftest import serve_app
from tests.suite import uid

NGINX = "10.0.0.5"


def _h(*pairs: tuple[str, str]) -> CIMultiDict[str]:
    return CIMultiDict(pairs)


def test_untrusted_peer_forwarding_headers_ignored() -> None:
    xff = _h(("X-Forwarded-For", "1.2.3.4"), ("X-Real-IP", "5.6.7.8"))
    assert client_ip(xff, "203.0.113.9") == "203.0.113.9"
    assert client_ip(xff, "203.0.113.9", "10.0.0.0/8") == "203.0.113.9"
    assert client_ip(xff, "203.0.113.9", "", "x-real-ip") == "203.0.113.9"


def test_trusted_proxy_chain_walked_from_the_right() -> None:
    trusted = f"{NGINX}, 10.1.0.0/16"
    # nginx appended the address it saw; whatever the client wrote on the left is not taken.
    spoofed = _h(("X-Forwarded-For", "6.6.6.6, 198.51.100.7"))
    assert client_ip(spoofed, NGINX, trusted) == "198.51.100.7"
    # A second trusted hop (a load balancer in front of nginx) is skipped.
    two_hops = _h(("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.2.3"))
    assert client_ip(two_hops, NGINX, trusted) == "198.51.100.7"
    # Several header lines are one list.
    split = _h(("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.8"))
    assert client_ip(split, NGINX, trusted) == "198.51.100.8"
    # Only trusted hops: the leftmost of them; garbage: the last hop that is known good.
    assert client_ip(_h(("X-Forwarded-For", "10.1.0.9")), NGINX, trusted) == "10.1.0.9"
    assert client_ip(_h(("X-Forwarded-For", "evil, 10.1.0.9")), NGINX, trusted) == "10.1.0.9"
    assert client_ip(_h(("X-Forwarded-For", "not-an-ip")), NGINX, trusted) == NGINX
    assert client_ip(_h(), NGINX, trusted) == NGINX
    # Ports, brackets, IPv4-mapped IPv6 peers.
    assert client_ip(_h(("X-Forwarded-For", "[2001:db8::1]:443")), NGINX, trusted) == "2001:db8::1"
    assert client_ip(spoofed, f"::ffff:{NGINX}", trusted) == "198.51.100.7"


def test_real_ip_header_and_unix_socket() -> None:
    headers = _h(("X-Real-IP", "198.51.100.20"), ("X-Forwarded-For", "6.6.6.6"))
    assert client_ip(headers, NGINX, NGINX, "x-real-ip") == "198.51.100.20"
    assert client_ip(_h(("X-Real-IP", "junk")), NGINX, NGINX, "x-real-ip") == NGINX
    # A proxy on a UNIX socket has no IP peer: trusted only when `unix` is listed.
    xff = _h(("X-Forwarded-For", "198.51.100.30"))
    assert client_ip(xff, "", "unix") == "198.51.100.30"
    assert client_ip(xff, "", NGINX) == ""


def test_bad_trusted_proxies_setting_refused() -> None:
    from config.settings import Settings

    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(env="test", trusted_proxies="10.0.0.0/8, nginx.local")
    with pytest.raises(ValueError, match="REAL_IP_HEADER"):
        Settings(env="test", real_ip_header="x-client-ip")


async def test_rotating_forwarded_for_hits_the_limit(client_at: Any) -> None:
    """The audit's attack: 31 logins with a fresh X-Forwarded-For each time."""
    attacker = client_at("203.0.113.77")
    codes = []
    for i in range(ratelimit.MINIAPP_LOGIN.limit + 1):
        r = await attacker.post(
            "/miniapp/v1/auth/login",
            json={"code": standin_login_code(f"rot{i}")},
            headers={"X-Forwarded-For": f"198.18.{i}.1", "X-Real-IP": f"198.19.{i}.1"},
        )
        codes.append(r.status_code)
    assert codes[-1] == 429 and set(codes[:-1]) == {200}
    # The audit rows carry the socket peer, never the address the caller chose.
    rows = await AuditLog.filter(action="signin.miniapp", ip__startswith="198.1")
    assert rows == []
    assert await AuditLog.filter(action="signin.miniapp", ip="203.0.113.77").count() == len(
        codes[:-1]
    )
    # Another peer has its own window.
    r = await client_at("203.0.113.78").post(
        "/miniapp/v1/auth/login", json={"code": standin_login_code("other")}
    )
    assert r.status_code == 200


@pytest.fixture(scope="module")
def proxied_server(settings: Any, redis_handle: Any, database: None) -> Iterator[str]:
    """A real server that trusts 127.0.0.1 (an nginx on the same host) with X-Forwarded-For."""
    yield from serve_app(settings, redis_handle, TRUSTED_PROXIES="127.0.0.1/32")


async def _login_ip(base: str, headers: dict[str, str]) -> str:
    """Log in to the mini-program through a real server; the IP its audit row recorded."""
    user = f"live{uid()}"
    async with httpx.AsyncClient(base_url=f"http://{base}") as http:
        r = await http.post(
            "/miniapp/v1/auth/login", json={"code": standin_login_code(user)}, headers=headers
        )
    assert r.status_code == 200, r.text
    account = await Account.get(wechat_openid=standin_openid(user))
    row = await AuditLog.get(action="signin.miniapp", actor_id=str(account.id))
    return row.ip


async def test_real_server_peer_and_trusted_proxy(live_server: str, proxied_server: str) -> None:
    spoof = {"X-Forwarded-For": "6.6.6.6, 198.51.100.44"}
    # Default: the socket peer (127.0.0.1 here), whatever the headers say.
    assert await _login_ip(live_server, spoof) == "127.0.0.1"
    # Behind a trusted proxy: the address that proxy appended, not the client's own entries.
    assert await _login_ip(proxied_server, spoof) == "198.51.100.44"
    assert await _login_ip(proxied_server, {}) == "127.0.0.1"

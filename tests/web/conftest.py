"""End-to-end fixtures: the platform started the way `make run` starts it (migrate, seed-demo,
serve) on a temp directory and a free port, and Debian's Chromium driven by Playwright.

Every request the browser makes to a host other than the loopback is aborted and recorded; page
errors (uncaught exceptions) are recorded too; the tests assert both lists stay empty.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.servers import free_port, healthy, realname_ok, stop, wait_ready

ROOT = Path(__file__).resolve().parents[2]
REALNAME = [sys.executable, "-m", "realname.cli"]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "var" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class Server:
    base: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run a `realname` command against this server's database and Redis."""
        return realname_ok(self.env, *args, timeout=120)


@pytest.fixture(scope="session")
def console_server() -> Iterator[Server]:
    """`make run` on a temp dir: migrate, seed-demo, serve; stopped (and the dir removed) after."""
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("the web console is not built: run `make web` (make test does it)")
    tmp = Path(tempfile.mkdtemp(prefix="realname-e2e-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        ENV="development",
        DATABASE_URL=f"sqlite://{tmp / 'realname.sqlite3'}",
        REDIS_URL="",
        EMBEDDED_REDIS_DIR=str(tmp / "redis"),
        STORAGE_URL=f"file://{tmp / 'files'}",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    server = Server(f"http://127.0.0.1:{port}", env)
    proc: subprocess.Popen[bytes] | None = None
    try:
        server.cli("migrate")
        server.cli("seed-demo")
        log = open(tmp / "serve.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [*REALNAME, "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_ready(
            proc,
            healthy(server.base),
            what="realname serve",
            seconds=180,  # start-up on a loaded, shared machine can be slow
            output=lambda: (tmp / "serve.log").read_text(errors="replace"),
            interval=0.3,
        )
        yield server
    finally:
        if proc is not None:
            stop(proc, timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Browser:
    """One Chromium page plus what must stay empty: page errors and requests leaving the machine."""

    page: Any
    context: Any
    base: str
    page_errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:  # settle pending requests; an embedded PDF viewer never reports network idle
            self.page.wait_for_load_state("networkidle", timeout=5000)
            self.page.wait_for_function(
                "!document.querySelector('.el-loading-spinner')", timeout=5000
            )
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: take the picture anyway
            pass
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.page_errors == [], self.page_errors
        assert self.outside == [], self.outside


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """Debian's Chromium (never a downloaded browser), headless. Package-scoped: Playwright's
    sync API keeps an event loop running in this thread while it is open, and the async tests
    collected after this folder (``devices/*/tests``) could not run their own."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make test does)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


OPEN: list[Browser] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item (for the failure screenshots below)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failed end-to-end test leaves what each open page showed in var/screenshots/failed-*."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for i, b in enumerate(OPEN):
        try:
            b.page.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}-{i}.png"))
        except Exception:  # noqa: BLE001 - a closed page: nothing to show
            pass


def open_browser(chromium: Any, server: Server) -> Browser:
    """A fresh context (no cookies) with the loopback-only guard and the error collector."""
    context = chromium.new_context(
        viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    b = Browser(page=page, context=context, base=server.base)

    def guard(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        # Only network schemes can leave the machine (the PDF viewer loads chrome:// resources).
        if parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname in LOOPBACK:
            route.continue_()
        else:
            b.outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page.on("pageerror", lambda exc: b.page_errors.append(str(exc)))
    page.set_default_timeout(30000)  # a shared, loaded machine: generous waits
    OPEN.append(b)
    return b

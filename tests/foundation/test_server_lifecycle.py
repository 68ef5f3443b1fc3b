"""A real ``realname serve`` (one worker, SQLite, embedded Redis) never wedges (issue 15, item 3).

- probed at 5 Hz from the moment it is spawned, over several restarts, it becomes healthy and
  stays healthy (the stock Tortoise client wedged for good when the health check's timeout
  cancelled the query opening the connection);
- 20 heavy requests (statistics and their exports, the roster export) aborted by their clients
  mid-request leave it healthy and answering at once;
- it prints no warning at start, and on SIGTERM it exits cleanly and stops its embedded Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, realname_ok
from tests.suite import TMP, _embedded_redis_left, uid

ROOT = Path(__file__).resolve().parents[2]
POLL = 0.2  # 5 Hz, as a load balancer probes
WARNING = re.compile(r"warn", re.IGNORECASE)  # Python warnings and WARNING log lines


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Path, dict[str, str]]]:
    """A migrated SQLite database with the demo seed, and the environment to serve it."""
    folder = TMP / uid("serve-")
    folder.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "STORAGE_", "SANIC_"))
    }
    env.update(
        {
            "ENV": "development",
            "DATABASE_URL": f"sqlite://{folder / 'realname.sqlite3'}",
            "REDIS_URL": "",
            "EMBEDDED_REDIS_DIR": str(folder / "redis"),
            "STORAGE_URL": f"file://{folder / 'files'}",
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": str(folder / "tmp"),  # what the server leaves in its temp folder is seen
        }
    )
    (folder / "tmp").mkdir()
    realname_ok(env, "migrate")
    realname_ok(env, "seed-demo")
    yield folder, env


class Server:
    """``realname serve`` in a subprocess, its output in a file."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"serve-{self.port}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "realname.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, to kill it whole
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def poll_until_healthy(self, client: httpx.Client, limit: float = 120) -> list[str]:
        """Probe /healthz every 0.2 s from now until it answers 200; what each probe saw."""
        seen: list[str] = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited: {self.output()[-3000:]}"
            t0 = time.monotonic()
            try:
                r = client.get(f"{self.base}/healthz")
                seen.append(f"{r.status_code} {r.text[:120]}")
                if r.status_code == 200:
                    return seen
            except httpx.TransportError as exc:
                seen.append(type(exc).__name__)
            time.sleep(max(0.0, POLL - (time.monotonic() - t0)))
        raise AssertionError(f"never healthy within {limit}s: {seen[-10:]}")

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"no exit 60 s after SIGTERM: {self.output()[-3000:]}") from None


def assert_stopped_cleanly(server: Server, code: int) -> None:
    assert code == 0, f"exit code {code}: {server.output()[-3000:]}"
    assert not _embedded_redis_left([server.folder]), "embedded Redis left running"
    registry = server.folder / "redis" / "embedded.rdb.settings"
    assert not registry.exists(), "embedded Redis registry left behind"


def test_restarts_probed_at_5hz_are_healthy_and_stay_healthy(site) -> None:
    folder, env = site
    with httpx.Client(timeout=5) as client:
        for _ in range(3):
            server = Server(folder, env)
            try:
                server.poll_until_healthy(client)
                # Healthy for good: every probe of the next 2 s, and a request that queries
                # the database, answer at once.
                for _ in range(10):
                    t0 = time.monotonic()
                    r = client.get(f"{server.base}/healthz")
                    assert r.status_code == 200, r.text
                    assert r.json()["checks"] == {"database": "ok", "redis": "ok", "files": "ok"}
                    time.sleep(max(0.0, POLL - (time.monotonic() - t0)))
                r = client.get(f"{server.base}/admin/v1/public/projects", params={"name": "西宁"})
                assert r.status_code == 200, r.text
                assert r.json()["total"] >= 1, r.text
            finally:
                code = server.stop()
            out = server.output()
            warned = [line for line in out.splitlines() if WARNING.search(line)]
            assert not warned, f"warnings at start or stop: {warned}"
            assert_stopped_cleanly(server, code)


def _admin_token(folder: Path, env: dict[str, str]) -> str:
    con = sqlite3.connect(folder / "realname.sqlite3")
    try:
        (credit_code,) = con.execute(
            "SELECT e.credit_code FROM participating_unit u"
            " JOIN enterprise e ON e.id = u.enterprise_id JOIN project p ON p.id = u.project_id"
            " WHERE p.code = 'QH-DEMO-001' AND u.role = 'general_contractor'"
        ).fetchone()
    finally:
        con.close()
    return realname_ok(env, "token", "issue", "--enterprise", credit_code).strip()


HEAVY = [
    "/admin/v1/projects/QH-DEMO-001/attendance/punch-stats?format=xlsx",
    "/admin/v1/projects/QH-DEMO-001/attendance/duration-stats?format=xlsx",
    "/admin/v1/projects/QH-DEMO-001/attendance/punch-stats",
    "/admin/v1/projects/QH-DEMO-001/attendance/duration-stats",
    "/admin/v1/projects/QH-DEMO-001/roster/export",
]


async def _abort_mid_request(port: int, path: str, token: str, after: float) -> bool:
    """Send the request, then drop the connection (RST) before the answer is read; whether
    any of the answer had arrived by then."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    await asyncio.sleep(after)
    try:
        answered = bool(await asyncio.wait_for(reader.read(1), timeout=0.001))
    except TimeoutError:
        answered = False
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return answered


def test_cancelled_heavy_requests_leave_it_healthy(site) -> None:
    folder, env = site
    server = Server(folder, env)
    try:
        with httpx.Client(timeout=10) as client:
            server.poll_until_healthy(client)
            token = _admin_token(folder, env)
            auth = {"Authorization": f"Bearer {token}"}
            r = client.get(f"{server.base}{HEAVY[0]}", headers=auth)
            assert r.status_code == 200 and r.content[:2] == b"PK", r.text[:500]

            async def abort_all(scale: float) -> list[bool]:
                return await asyncio.gather(
                    *(
                        _abort_mid_request(
                            server.port, HEAVY[i % len(HEAVY)], token, (0.05 + 0.02 * i) * scale
                        )
                        for i in range(20)
                    )
                )

            # Twenty requests dropped at spread-out moments; when the server answered most of
            # them before the drop (a fast, quiet machine), again with the moments brought
            # forward, until at least ten were dropped before any byte of their answer came.
            answered: list[bool] = []
            for scale in (1.0, 0.4, 0.15, 0.05):
                answered += asyncio.run(abort_all(scale))
                if answered.count(False) >= 10:
                    break
            assert answered.count(False) >= 10, f"too few aborted mid-request: {answered}"
            # Healthy, and a normal request answers at once (a wedged database answers
            # nothing for a minute).
            t0 = time.monotonic()
            r = client.get(f"{server.base}/healthz")
            assert r.status_code == 200, r.text
            r = client.get(f"{server.base}{HEAVY[2]}", headers=auth)
            assert r.status_code == 200, r.text[:500]
            assert time.monotonic() - t0 < 8
            for _ in range(5):
                r = client.get(f"{server.base}/healthz")
                assert r.status_code == 200, r.text
                time.sleep(POLL)
    finally:
        code = server.stop()
    assert_stopped_cleanly(server, code)
    # Aborted exports leave no half-written workbook or sheet temp file behind.
    left = sorted(p.name for p in (folder / "tmp").iterdir())
    assert left == [], f"temp files left by aborted exports: {left}"


def _wait_for_embedded_redis(server: Server) -> Path:
    registry = server.folder / "redis" / "embedded.rdb.settings"
    deadline = time.monotonic() + 60
    while not registry.exists():  # the embedded Redis is up: the app is being loaded now
        assert server.proc.poll() is None, server.output()[-3000:]
        assert time.monotonic() < deadline, "embedded Redis never started"
        time.sleep(0.01)
    return registry


def _wait_for_watchdog(server: Server) -> None:
    """Until the server's embedded-Redis watchdog runs (its child, in a session of its own, so
    out of reach of a SIGKILL of the server's process group); bounded, not a fixed sleep."""
    import psutil

    deadline = time.monotonic() + 60
    while True:
        assert server.proc.poll() is None, server.output()[-3000:]
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(server.proc.pid).children():
                with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                    if any("_watchdog_main" in arg for arg in child.cmdline()):
                        return
        assert time.monotonic() < deadline, "the embedded Redis watchdog never started"
        time.sleep(0.01)


def test_sigterm_during_start_stops_the_embedded_redis(site) -> None:
    """SIGTERM before Sanic has installed its handlers (a supervisor giving up on a slow start):
    the process still exits through its cleanup, and its embedded Redis goes with it."""
    folder, env = site
    server = Server(folder, env)
    registry = _wait_for_embedded_redis(server)
    code = server.stop()
    assert code in (0, 128 + signal.SIGTERM), server.output()[-3000:]
    assert not _embedded_redis_left([folder]), "embedded Redis left running"
    assert not registry.exists(), "embedded Redis registry left behind"


def test_killed_server_still_stops_its_embedded_redis(site) -> None:
    """SIGKILL of the whole server (or Sanic's own os._exit when a worker fails to start): no
    cleanup runs in it, yet its embedded Redis is stopped (by its watchdog)."""
    folder, env = site
    server = Server(folder, env)
    registry = _wait_for_embedded_redis(server)
    _wait_for_watchdog(server)
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    deadline = time.monotonic() + 20
    while _embedded_redis_left([folder]) or registry.exists():
        assert time.monotonic() < deadline, "embedded Redis left running after SIGKILL"
        time.sleep(0.05)


def _workers_of(server: Server, count: int) -> list[int]:
    """The pids of the server's ``count`` Sanic worker processes (not its other children: the
    embedded Redis watchdog, multiprocessing's shared-state manager), once all are running."""
    import psutil

    deadline = time.monotonic() + 60
    while True:
        assert server.proc.poll() is None, server.output()[-3000:]
        found = []
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(server.proc.pid).children():
                with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                    if child.environ().get("SANIC_WORKER_NAME", "").startswith("Sanic-Server"):
                        found.append(child.pid)
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} of {count} workers started"
        time.sleep(0.05)


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_workers_exit_when_their_manager_is_killed(site) -> None:
    """SIGKILL of the manager of ``realname serve --workers 2`` (a test runner or supervisor
    killed): its workers notice and exit, none keeps serving or holding the port.
    (multiprocessing's shared-state manager and resource tracker, which Sanic starts too, are
    not ours to change: they stay, and this test ends them.)"""
    import psutil

    folder, env = site
    server = Server(folder, {**env, "WORKERS": "2"})
    workers: list[int] = []
    helpers: list[int] = []
    try:
        with httpx.Client(timeout=2) as client:
            server.poll_until_healthy(client)
        workers = _workers_of(server, 2)
        for child in psutil.Process(server.proc.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if "multiprocessing" in " ".join(child.cmdline()) and child.pid not in workers:
                    helpers.append(child.pid)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in workers):
            assert time.monotonic() < deadline, "workers still running after their manager died"
            time.sleep(0.05)
    finally:
        for pid in workers + helpers:  # this test's own processes
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
    deadline = time.monotonic() + 20
    while _embedded_redis_left([folder]):  # stopped by its watchdog, as in the test above
        assert time.monotonic() < deadline, "embedded Redis left running"
        time.sleep(0.05)

"""Scale-out: two ``realname serve --workers 2`` instances behind nginx on PostgreSQL + Redis.

One instance at a time is SIGKILLed (after it acknowledged punches since its last start, while
requests are in flight) and restarted. Nothing acknowledged is lost or stored twice, every
accepted punch's day settles, and the other instance keeps answering during each kill window.
The nginx configuration is read from ``docs/operations.md`` (scale-out): the documented template
is what runs here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.devices.durability import (
    ENTRY,
    ROOT,
    Load,
    Server,
    dies_with_us,
    exited,
    kill_group,
    server_env,
    wait_for_kill_moment,
)
from tests.devices.helpers import make_device
from tests.factories import make_member, make_project
from tests.integrations.conftest import free_port

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
)
KILLS = 2  # one instance at a time: a, then b
ACKS_BEFORE_KILL = 20  # punches the victim acknowledged since its last start

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres")
        or not os.environ.get("REDIS_URL"),
        reason="scale-out needs a shared PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)",
    ),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian: nginx-light)"),
]

DOCS = ROOT / "docs" / "operations.md"
DOC_PREFIX = "/var/lib/realname-nginx"
DOC_LISTEN = "listen 80;"
DOC_SERVERS = ("server 10.0.0.11:8000 ", "server 10.0.0.12:8000 ")


def nginx_conf(prefix: Path, listen: int, ports: list[int]) -> str:
    """The configuration documented in docs/operations.md (scale-out), for this test's private
    directory, loopback port and instances: the test runs exactly what the docs show."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### Two instances behind nginx") :]
    conf = section[section.index("```nginx\n") + len("```nginx\n") : section.index("\n```\n")]
    for token in (DOC_PREFIX, DOC_LISTEN, *DOC_SERVERS):
        assert token in conf, f"docs/operations.md nginx template lost {token!r}"
    conf = conf.replace(DOC_PREFIX, str(prefix)).replace(DOC_LISTEN, f"listen 127.0.0.1:{listen};")
    for doc_server, port in zip(DOC_SERVERS, ports, strict=True):
        conf = conf.replace(doc_server, f"server 127.0.0.1:{port} ")
    return conf + "\n"


async def _wait_nginx(proc: subprocess.Popen, port: int, work: Path) -> None:
    deadline = time.monotonic() + 10
    while True:
        if exited(proc):
            log = work / "error.log"
            raise RuntimeError(f"nginx exited: {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


def _stop(proc: subprocess.Popen | None) -> None:
    """Stop nginx (master and workers: its own process group), never reaped before."""
    if proc is None:
        return
    kill_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.wait()


async def test_two_instances_behind_nginx_survive_sigkill(settings, database, redis):
    world = await make_project()
    devices = [await make_device(world) for _ in range(6)]
    members = [await make_member(world, entry_date=ENTRY) for _ in range(10)]
    work = Path(tempfile.mkdtemp(prefix="realname-scaleout-"))
    work.chmod(0o755)  # nginx workers (another user when started as root) write temp files here
    env = server_env(settings, settings.redis_url)
    servers = [Server(name, free_port(), env, work, workers=2) for name in ("a", "b")]
    listen = free_port()
    (work / "nginx.conf").write_text(nginx_conf(work, listen, [s.port for s in servers]))
    load = Load(f"http://127.0.0.1:{listen}", devices, [m.person_id for m in members])
    nginx: subprocess.Popen | None = None
    moments: list[tuple[str, int, int]] = []
    windows: list[tuple[str, int]] = []  # (survivor, replies it sent during the kill window)
    try:
        for s in servers:
            s.start()
        for s in servers:
            await s.wait_ready()
        conf, log = str(work / "nginx.conf"), str(work / "error.log")
        nginx = subprocess.Popen(
            dies_with_us([NGINX, "-p", str(work), "-c", conf, "-e", log, "-g", "daemon off;"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        await _wait_nginx(nginx, listen, work)
        started = {s.name: time.monotonic() for s in servers}
        load.run()
        for k in range(KILLS):
            victim, survivor = servers[k % 2], servers[(k + 1) % 2]
            upstream = f"127.0.0.1:{victim.port}"
            acks, in_flight = await wait_for_kill_moment(
                load, started[victim.name], ACKS_BEFORE_KILL, upstream
            )
            victim.kill()
            window_start = time.monotonic()
            moments.append((victim.name, acks, in_flight))
            victim.start()
            await victim.wait_ready()
            started[victim.name] = time.monotonic()
            served = sum(
                1
                for r in load.replies
                if r.upstream == f"127.0.0.1:{survivor.port}"
                and window_start < r.at <= started[victim.name]
            )
            windows.append((survivor.name, served))
        for s in servers:  # both instances acknowledge again after the last restart
            await wait_for_kill_moment(load, started[s.name], 1, f"127.0.0.1:{s.port}")
        result = await load.finish([m.id for m in members], world.project.timezone)
    finally:
        load.abandon()
        _stop(nginx)
        for s in servers:
            s.kill()
        shutil.rmtree(work, ignore_errors=True)

    assert [name for name, _, _ in moments] == ["a", "b"]
    for _, acks, in_flight in moments:
        assert acks >= ACKS_BEFORE_KILL and in_flight >= 1  # killed mid-traffic, after acks
    for survivor, served in windows:
        assert served > 0, f"instance {survivor} answered nothing while the other was down"
    assert not load.bad_results
    assert not load.early_duplicates
    assert result.acknowledged == result.sent
    assert result.missing == []  # acknowledged punches missing: 0
    assert result.doubled == []  # stored twice: 0
    assert result.unsettled == [] and result.wrong_days == [] and result.pending == 0

"""Processes the tests start for real: ``realname`` commands, a free port, waiting until a server
is ready, stopping it, and ``realname serve`` sharing the test session's database, Redis, file
store and stand-ins."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def cli_env(settings: Any, **extra: str) -> dict[str, str]:
    """The environment of a ``realname`` command on the test session's database, Redis and file
    store (what an operator's shell would set)."""
    return {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "EMBEDDED_REDIS_DIR": settings.embedded_redis_dir,
        "STORAGE_URL": settings.storage_url,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def realname_cli(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``realname <args>`` in its own process, as an operator runs it (output as text)."""
    return subprocess.run(
        [sys.executable, "-m", "realname.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def realname_ok(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """The output of ``realname <args>``, which must succeed (else its error's tail)."""
    out = realname_cli(env, *args, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(base: str) -> Callable[[], bool]:
    """A probe: the platform at `base` answers ``/healthz`` with 200."""

    def probe() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


def listening(port: int) -> Callable[[], bool]:
    """A probe: something accepts TCP connections on `port` of the loopback."""

    def probe() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    return probe


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    what: str,
    seconds: float,
    output: Callable[[], str] = lambda: "",
    interval: float = 0.1,
) -> None:
    """Until `ready()`; a RuntimeError with the tail of `output()` if the process exits first or
    `seconds` pass (a bound: start-up on a busy shared machine can be slow)."""
    deadline = time.monotonic() + seconds
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {output()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready: {output()[-2000:]}")
        time.sleep(interval)


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Terminate `proc`, killing it if it has not exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def read_all(log: IO[bytes]) -> Callable[[], str]:
    """What a process wrote so far to the file `log`."""

    def read() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    return read


@contextmanager
def serve_realname(settings: Any, redis_handle: Any, **env_extra: str) -> Iterator[str]:
    """``realname serve`` on a free port, sharing the test session's database, Redis, file store
    and stand-ins; yields its base URL and stops the server afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or f"unix://{redis_handle.socket_path}",
        "STORAGE_URL": settings.storage_url,
        "PUBLIC_BASE_URL": base,
        "WECHAT_API_BASE": settings.effective_wechat_api_base,
        "IDAUTH_BASE_URL": settings.effective_idauth_base_url,
        "LOG_LEVEL": "WARNING",
        **env_extra,
    }
    # A file, not a pipe: nobody reads the server's log while it runs, and a full pipe blocks it.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "realname.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(
                proc, healthy(base), what="realname serve", seconds=120, output=read_all(log)
            )
            yield base
        finally:
            stop(proc, timeout=15)

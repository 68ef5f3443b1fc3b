"""A minimal pipelined Redis client for the device nonce check (``SET key value NX EX ttl``).

The signed device requests do exactly one Redis command each. Through redis-py's asyncio client
that costs ~90 µs of CPU (pool, retry, timeout and parser layers); this client writes the RESP
command on one shared connection and matches the replies in order (Redis answers a connection's
commands in order), ~20 µs. It is still one ``SET NX EX`` round trip to the same Redis, so the
nonce stays single-use across workers. Any connection error fails the waiting calls (the request
gets a 500 and the device retries with a new nonce) and the next call reconnects.

Only plain ``redis://`` and ``unix://`` URLs are handled; anything else (TLS, sentinel) keeps
redis-py (``for_url`` returns None).
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any
from urllib.parse import unquote, urlparse

REPLY_TIMEOUT = 3.0  # seconds; a Redis that does not answer fails the request, never hangs it


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError("redis did not answer in time"))


class NonceClient:
    """``await client.set(key, value, nx=True, ex=ttl)`` → True if set, None if it existed."""

    def __init__(
        self,
        *,
        unix_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 6379,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.unix_path, self.host, self.port, self.db = unix_path, host, port, db
        self.username, self.password = username, password
        self._writer: asyncio.StreamWriter | None = None
        self._pending: collections.deque[asyncio.Future] = collections.deque()
        self._connecting: asyncio.Lock | None = None
        self._reader_task: asyncio.Task | None = None
        self._out: list[bytes] = []  # commands not yet written (sent at the end of the tick)
        self._out_writer: asyncio.StreamWriter | None = None

    @classmethod
    def for_url(cls, url: str) -> NonceClient | None:
        """A client for a ``redis://`` or ``unix://`` URL, else None."""
        u = urlparse(url)
        if u.scheme == "unix":
            db = 0
            for part in (u.query or "").split("&"):
                if part.startswith("db="):
                    db = int(part[3:])
            return cls(unix_path=unquote(u.path), db=db, password=u.password)
        if u.scheme != "redis" or u.query:
            return None
        db = int(u.path.lstrip("/") or 0) if u.path not in ("", "/") else 0
        return cls(
            host=u.hostname or "127.0.0.1",
            port=u.port or 6379,
            db=db,
            username=unquote(u.username) if u.username else None,
            password=unquote(u.password) if u.password else None,
        )

    @staticmethod
    def _pack(*args: bytes) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    async def _connect(self) -> asyncio.StreamWriter:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._writer is not None:
                return self._writer
            if self.unix_path:
                reader, writer = await asyncio.open_unix_connection(self.unix_path)
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            try:
                setup = []
                if self.password:
                    auth = [b"AUTH"]
                    if self.username:
                        auth.append(self.username.encode())
                    auth.append(self.password.encode())
                    setup.append(self._pack(*auth))
                if self.db:
                    setup.append(self._pack(b"SELECT", str(self.db).encode()))
                if setup:
                    writer.write(b"".join(setup))
                    for _ in setup:
                        line = await reader.readline()
                        if not line.startswith(b"+"):
                            raise ConnectionError(f"redis setup failed: {line!r}")
            except BaseException:
                writer.close()
                raise
            self._writer = writer
            self._reader_task = asyncio.get_running_loop().create_task(self._read(reader, writer))
            return writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        error: BaseException = ConnectionError("redis connection closed")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                if line[:1] == b"$" and line[1:3] != b"-1":  # a bulk string (not sent by SET NX)
                    await reader.readexactly(int(line[1:]) + 2)
                if not self._pending:
                    error = ConnectionError("unexpected redis reply")
                    break
                fut = self._pending.popleft()
                if fut.done():
                    continue
                if line[:1] == b"+":
                    fut.set_result(True)
                elif line[:1] in (b"$", b"_"):
                    fut.set_result(True if line[1:3] != b"-1" and line[:1] != b"_" else None)
                else:
                    fut.set_exception(RuntimeError(line.decode(errors="replace").strip()))
        except Exception as exc:  # noqa: BLE001 - handed to every waiting call
            error = exc
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()
            while self._pending:
                fut = self._pending.popleft()
                if not fut.done():
                    fut.set_exception(ConnectionError(str(error)))

    async def set(self, key: str | bytes, value: bytes, *, nx: bool, ex: int) -> bool | None:
        """``SET key value NX EX ex``; only the NX form is supported."""
        if not nx:
            raise ValueError("NonceClient only does SET ... NX")
        writer = self._writer or await self._connect()
        k = key.encode() if isinstance(key, str) else key
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self._pending.append(fut)
        # Commands of the same loop iteration go out in one write (one send() for many requests
        # under load); their order, and so the reply matching, is unchanged.
        if self._out_writer is not writer:
            self._out, self._out_writer = [], writer  # the old connection's calls have failed
        self._out.append(self._pack(b"SET", k, value, b"NX", b"EX", str(int(ex)).encode()))
        if len(self._out) == 1:
            loop.call_soon(self._flush_out)
        # A timer instead of asyncio.wait_for (which wraps the future in another one). A
        # cancelled or expired future stays queued, so a late reply is matched to it and skipped.
        timer = loop.call_later(REPLY_TIMEOUT, _expire, fut)
        try:
            return await fut
        finally:
            timer.cancel()

    def _flush_out(self) -> None:
        out, writer = self._out, self._out_writer
        self._out = []
        if out and writer is not None and writer is self._writer:
            writer.write(b"".join(out))

    async def aclose(self) -> None:
        """Close the connection (waiting calls fail)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._reader_task is not None:
            self._reader_task.cancel()
            try:
                await self._reader_task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._reader_task = None


def nonce_client(url: str | None, unix_path: str | None) -> Any:
    """The fast client for the app's Redis, or None (then redis-py is used)."""
    if url:
        return NonceClient.for_url(url)
    if unix_path:
        return NonceClient(unix_path=unix_path)
    return None

"""Tortoise engine ``realname.dbclient.sqlite``: the SQLite client, safe under cancellation.

See the package docstring for the failure modes of the stock client this one closes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from typing import Any

import aiosqlite
from tortoise.backends.base.client import ConnectionWrapper, TransactionalDBClient
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections

from realname.dbclient import end_transaction, log, run_to_completion
from realname.singleflight import SingleFlight
from services.localtime import sqlite_text

# Datetimes as SQLite stores and compares them: UTC text. Tortoise's own adapter (registered when
# its SQLite executor is imported, above) keeps each value's offset, so a terminal's +08:00 and a
# handset's Z punches of one day sorted and filtered wrongly as text.
sqlite3.register_adapter(dt.datetime, sqlite_text)


def _usable(conn: aiosqlite.Connection | None) -> bool:
    return conn is not None and conn._running and conn._connection is not None


def _rollback_if_open(sqlconn: sqlite3.Connection) -> None:
    """In the connection's thread: end a transaction a cancelled caller left open."""
    if sqlconn.in_transaction:
        sqlconn.rollback()


def _execute_many(sqlconn: sqlite3.Connection, query: str, values: list[list]) -> None:
    """In the connection's thread: the whole bulk statement in one transaction, one hop, so a
    cancelled caller cannot leave it between ``BEGIN`` and ``COMMIT``."""
    sqlconn.execute("BEGIN")
    try:
        sqlconn.executemany(query, values)
    except BaseException:
        sqlconn.rollback()
        raise
    sqlconn.commit()


class SafeConnectionWrapper(ConnectionWrapper):
    """The client lock plus the (lazily opened) connection; the lock is given back if the
    opening fails or the caller is cancelled while waiting for it."""

    async def ensure_connection(self) -> None:
        if not _usable(self.client._connection):
            await self.client.create_connection(with_db=True)
        self.connection = self.client._connection

    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


class SafeSqliteTransactionContext(SqliteTransactionContext):
    """A transaction holding the client lock; whatever ``__aenter__`` took is given back when it
    fails or is cancelled, and the end of the transaction always completes before the lock goes."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        token = None
        try:
            await self.ensure_connection()
            token = get_connections().set(self.connection_name, self.connection)
            await self.connection.begin()
        except BaseException:
            try:
                await self._abandon()
            finally:
                if token is not None:
                    get_connections().reset(token)
                self._trxlock.release()
            raise
        self.token = token
        return self.connection

    async def ensure_connection(self) -> None:
        parent = self.connection._parent
        if not _usable(parent._connection):
            await parent.create_connection(with_db=True)
        self.connection._connection = parent._connection

    async def _abandon(self) -> None:
        """Roll back a ``BEGIN`` that may have gone through before the failure/cancellation."""
        conn = self.connection._connection
        if not _usable(conn):
            return
        try:
            await run_to_completion(conn._execute(_rollback_if_open, conn._conn))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the connection is unusable: the next user reopens it
            log.warning("rollback of an abandoned transaction failed; reopening the connection")
            await self.connection._parent.discard_connection()

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            await end_transaction(self.connection, exc_type)
        finally:
            get_connections().reset(self.token)
            self._trxlock.release()


class SafeSqliteClient(SqliteClient):
    """``SqliteClient`` whose connection opening, lock and transactions survive cancellation."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self._opening: SingleFlight[str, None] = SingleFlight()  # "writer", "reader"
        self._reader: aiosqlite.Connection | None = None

    async def read(self, sql: str, params: list[Any]) -> list[Any]:
        """A read outside any transaction on the client's second connection: with WAL a reader
        does not wait for the writer, so a hot-path lookup (the punch pipeline's members) is not
        queued behind a write transaction's ``COMMIT`` (an fsync) on the first connection, which
        takes every statement in turn. It sees what is committed, as a read on the first
        connection outside a transaction does. An in-memory database has one connection only."""
        if self.filename == ":memory:":
            _, rows = await self.execute_query(sql, params)
            return list(rows)
        if not _usable(self._reader):
            await self._opening.run("reader", self._open_reader)
        reader = self._reader
        assert reader is not None
        try:
            return list(await reader.execute_fetchall(sql, params))
        except sqlite3.Error:
            if reader is self._reader:  # reopened by the next read
                self._reader = None
                await _close_quietly(reader)
            raise

    async def _open_reader(self) -> None:
        if _usable(self._reader):
            return
        self._reader = await self._connect()  # rows as tuples: the reads are positional

    async def _connect(self, row_factory: Any = None) -> aiosqlite.Connection:
        """A new connection to the file with the client's pragmas set (closed if that fails)."""
        conn = await aiosqlite.connect(self.filename, isolation_level=None)
        try:
            if row_factory is not None:
                conn._conn.row_factory = row_factory
            for pragma, val in self.pragmas.items():
                cursor = await conn.execute(f"PRAGMA {pragma}={val}")
                await cursor.close()
        except BaseException:
            await _close_quietly(conn)
            raise
        return conn

    async def create_connection(self, with_db: bool) -> None:
        if _usable(self._connection):
            return
        await self._opening.run("writer", self._open)

    async def _open(self) -> None:
        """Open and set up a connection; it is published only once complete."""
        if _usable(self._connection):
            return
        stale, self._connection = self._connection, None
        if stale is not None:
            await _close_quietly(stale)
        conn = await self._connect(sqlite3.Row)
        self._connection = conn
        await self._post_connect()
        self.log.debug("Created connection %s with params: filename=%s", conn, self.filename)

    async def discard_connection(self) -> None:
        """Drop the connection (it is reopened by the next query)."""
        conn, self._connection = self._connection, None
        if conn is not None:
            await _close_quietly(conn)

    async def close(self) -> None:
        await self._opening.settle("reader")
        reader, self._reader = self._reader, None
        if reader is not None:
            await _close_quietly(reader)
        await self._opening.settle("writer")
        conn, self._connection = self._connection, None
        if conn is not None:
            await run_to_completion(conn.close())
            self.log.debug("Closed connection %s with params: filename=%s", conn, self.filename)

    def acquire_connection(self) -> ConnectionWrapper:
        return SafeConnectionWrapper(self._lock, self)

    def _in_transaction(self) -> SqliteTransactionContext:
        return SafeSqliteTransactionContext(SqliteTransactionWrapper(self), self._lock)

    @translate_exceptions
    async def execute_many(self, query: str, values: list[list]) -> None:
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)
            await connection._execute(_execute_many, connection._conn, query, values)


async def _close_quietly(conn: aiosqlite.Connection) -> None:
    try:
        await run_to_completion(conn.close())
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - already broken
        pass


client_class = SafeSqliteClient

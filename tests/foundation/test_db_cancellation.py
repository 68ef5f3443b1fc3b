"""No cancellation wedges the database client (issue 15, item 3).

Each test cancels a task at a point where Tortoise's stock clients keep what they took (the SQLite
lock, a half set-up connection, an open ``BEGIN``, a pooled connection) and then checks that the
next query answers promptly on a fully set-up connection. The clients are built exactly as the
platform builds them (``realname.db.connection_config``).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from realname import db
from tests.suite import uid

PROMPT = 3.0  # seconds: a wedged client never answers; a healthy one answers at once


def make_client(url: str, **extra: Any) -> Any:
    info = db.connection_config(url)
    cls = importlib.import_module(info["engine"]).client_class
    return cls(connection_name=uid("cancel"), **{**info["credentials"], **extra})


async def cancel_when(task: asyncio.Task, ready: Callable[[], bool], limit: int = 100_000) -> None:
    """Let ``task`` run, cancel it at the first loop iteration where ``ready()`` holds, reap it."""
    for _ in range(limit):
        await asyncio.sleep(0)
        if ready() or task.done():
            break
    assert not task.done(), "finished before it could be cancelled"
    task.cancel()
    try:
        await task
    except BaseException:  # noqa: BLE001 - cancelled, or failed by the cancellation
        pass


async def cancel_after(task: asyncio.Task, delay: float) -> None:
    await asyncio.sleep(delay)
    task.cancel()
    try:
        await task
    except BaseException:  # noqa: BLE001 - cancelled (or done first: fine too)
        pass


async def prompt(aw: Awaitable[Any]) -> Any:
    return await asyncio.wait_for(aw, PROMPT)


# --- SQLite ---------------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    path = tmp_path / "cancel.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
    con.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, probe_id INT REFERENCES probe(id))")
    con.commit()
    con.close()
    yield f"sqlite://{path}"


async def assert_sqlite_healthy(client: Any, path: str) -> None:
    """Answers at once, with the connection fully set up and no transaction left open."""
    _, rows = await prompt(client.execute_query("PRAGMA foreign_keys"))
    assert rows[0][0] == 1, "connection kept half set up (foreign keys off)"
    _, rows = await prompt(client.execute_query("PRAGMA journal_mode"))
    assert rows[0][0] == "wal"
    note = uid()
    await prompt(client.execute_query("INSERT INTO probe (note) VALUES (?)", [note]))
    # Another connection sees the row and can write: nothing left an open transaction behind.
    other = sqlite3.connect(path, timeout=1)
    try:
        assert other.execute("SELECT count(*) FROM probe WHERE note = ?", [note]).fetchone()[0] == 1
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
    finally:
        other.close()


async def test_sqlite_cancel_while_connecting(sqlite_url: str) -> None:
    path = sqlite_url[len("sqlite://") :]
    # The first query opens the connection; cancel it at the first await (aiosqlite.connect),
    # then as soon as the connection object exists (the stock client then runs its PRAGMAs),
    # then after growing delays that land anywhere in the opening.
    client = make_client(sqlite_url)
    task = asyncio.ensure_future(client.execute_query("SELECT 1"))
    await cancel_when(task, lambda: True)
    await assert_sqlite_healthy(client, path)
    await client.close()

    client = make_client(sqlite_url)
    task = asyncio.ensure_future(client.execute_query("SELECT 1"))
    await cancel_when(task, lambda: client._connection is not None)
    await assert_sqlite_healthy(client, path)
    await client.close()

    for delay in (0.0005, 0.001, 0.002, 0.004, 0.008):
        client = make_client(sqlite_url)
        await cancel_after(asyncio.ensure_future(client.execute_query("SELECT 1")), delay)
        await assert_sqlite_healthy(client, path)
        await client.close()


async def test_sqlite_health_check_cancelled_while_connecting(sqlite_url: str) -> None:
    """The issue's exact path: the health check's query is cancelled (its ``wait_for`` timed
    out) while it opens the connection, with the two settlement sweeps queued behind it."""
    path = sqlite_url[len("sqlite://") :]
    client = make_client(sqlite_url)
    health = asyncio.ensure_future(client.execute_query("SELECT 1"))
    sweeps = [asyncio.ensure_future(client.execute_query("SELECT 2")) for _ in range(2)]
    await cancel_when(health, lambda: True)
    for task in sweeps:
        assert (await prompt(task))[1][0][0] == 2
    await assert_sqlite_healthy(client, path)
    await client.close()


async def test_sqlite_cancel_transaction_start_and_body(sqlite_url: str, database: None) -> None:
    # (``database``: Tortoise's context, where a transaction registers its connection)
    path = sqlite_url[len("sqlite://") :]
    client = make_client(sqlite_url)
    await client.execute_query("SELECT 1")  # connected

    async def transaction(note: str, hold: float) -> None:
        async with client._in_transaction() as conn:
            await conn.execute_query("INSERT INTO probe (note) VALUES (?)", [note])
            await asyncio.sleep(hold)

    # Cancelled at the first await of the transaction's start (its COMMIT/BEGIN), then at
    # growing delays (BEGIN in flight, INSERT, body), and in the body for sure.
    lost = []
    for delay in (None, 0.0002, 0.0005, 0.001, 0.002, 0.004, 0.05):
        note = uid()
        lost.append(note)
        task = asyncio.ensure_future(transaction(note, 10))
        if delay is None:
            await cancel_when(task, lambda: True)
        else:
            await cancel_after(task, delay)
        await assert_sqlite_healthy(client, path)
    _, rows = await client.execute_query(
        f"SELECT count(*) FROM probe WHERE note IN ({','.join('?' * len(lost))})", lost
    )
    assert rows[0][0] == 0, "a cancelled transaction was committed"
    # The lock is free: a transaction still runs, and commits.
    kept = uid()
    await prompt(transaction(kept, 0))
    _, rows = await client.execute_query("SELECT count(*) FROM probe WHERE note = ?", [kept])
    assert rows[0][0] == 1
    await client.close()


async def test_sqlite_cancel_running_query_and_bulk_insert(sqlite_url: str) -> None:
    path = sqlite_url[len("sqlite://") :]
    client = make_client(sqlite_url)
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)"
        " SELECT count(*) FROM c"
    )
    await cancel_after(asyncio.ensure_future(client.execute_query(slow)), 0.01)
    await assert_sqlite_healthy(client, path)
    # A bulk insert (Tortoise's execute_many: BEGIN, executemany, COMMIT) cancelled midway is
    # all or nothing, and leaves no transaction open.
    notes = [f"bulk-{i:06d}" for i in range(20000)]
    task = asyncio.ensure_future(
        client.execute_many("INSERT INTO probe (note) VALUES (?)", [[n] for n in notes])
    )
    await cancel_after(task, 0.005)
    await assert_sqlite_healthy(client, path)
    _, rows = await client.execute_query("SELECT count(*) FROM probe WHERE note LIKE 'bulk-%'")
    assert rows[0][0] in (0, len(notes)), "a cancelled bulk insert was kept in part"
    await client.close()


async def test_sqlite_close_while_connecting(sqlite_url: str) -> None:
    """Server shutdown closes the connections while a request is opening one."""
    path = sqlite_url[len("sqlite://") :]
    client = make_client(sqlite_url)
    task = asyncio.ensure_future(client.execute_query("SELECT 1"))
    await asyncio.sleep(0)
    await prompt(client.close())
    task.cancel()
    try:
        await task
    except BaseException:  # noqa: BLE001 - cancelled, or done before
        pass
    assert client._connection is None
    await assert_sqlite_healthy(client, path)  # reopened by the next query
    await client.close()


# --- PostgreSQL -----------------------------------------------------------------------------------

PG_URL = os.environ.get("DATABASE_URL", "")
needs_pg = pytest.mark.skipif(
    not PG_URL.startswith(("postgres://", "postgresql://")), reason="needs DATABASE_URL=postgres"
)


@pytest.fixture
async def pg_table(database: None) -> AsyncIterator[str]:
    """A scratch table in the test database (after the session has rebuilt its schema)."""
    import asyncpg

    name = uid("cancel_probe_")
    dsn = PG_URL.replace("postgres://", "postgresql://", 1)
    con = await asyncpg.connect(dsn)
    await con.execute(f"CREATE TABLE {name} (id serial PRIMARY KEY, note text NOT NULL)")
    yield name
    await con.execute(f"DROP TABLE {name}")
    await con.close()


async def assert_pg_healthy(client: Any, table: str) -> None:
    """Answers at once (the pool has one connection: a leaked one blocks everything)."""
    note = uid()
    await prompt(client.execute_query(f"INSERT INTO {table} (note) VALUES ($1)", [note]))
    _, rows = await prompt(
        client.execute_query(f"SELECT count(*) FROM {table} WHERE note = $1", [note])
    )
    assert rows[0][0] == 1
    async with client._in_transaction() as conn:  # a transaction still starts and commits
        await prompt(conn.execute_query("SELECT 1"))


@needs_pg
async def test_postgres_cancel_while_creating_pool(pg_table: str, database: None) -> None:
    for delay in (None, 0.001, 0.003, 0.01, 0.03):
        client = make_client(PG_URL, maxsize=1)
        task = asyncio.ensure_future(client.execute_query("SELECT 1"))
        if delay is None:
            await cancel_when(task, lambda: True)
        else:
            await cancel_after(task, delay)
        await assert_pg_healthy(client, pg_table)
        await prompt(client.close())


@needs_pg
async def test_postgres_cancel_transaction_start_query_and_body(
    pg_table: str, database: None
) -> None:
    client = make_client(PG_URL, maxsize=1)
    await client.execute_query("SELECT 1")  # pool created

    async def transaction(note: str, hold: float) -> None:
        async with client._in_transaction() as conn:
            await conn.execute_query(f"INSERT INTO {pg_table} (note) VALUES ($1)", [note])
            await asyncio.sleep(hold)

    # While BEGIN is in flight: the pooled connection is taken, BEGIN not answered yet.
    ctx = client._in_transaction()

    async def begin_then_wait() -> None:
        async with ctx:
            await asyncio.sleep(10)

    task = asyncio.ensure_future(begin_then_wait())
    await cancel_when(task, lambda: ctx.client._connection is not None)
    await assert_pg_healthy(client, pg_table)

    lost = []
    for delay in (0.001, 0.003, 0.01, 0.2):
        note = uid()
        lost.append(note)
        await cancel_after(asyncio.ensure_future(transaction(note, 10)), delay)
        await assert_pg_healthy(client, pg_table)
    _, rows = await client.execute_query(
        f"SELECT count(*) FROM {pg_table} WHERE note = ANY($1::text[])", [lost]
    )
    assert rows[0][0] == 0, "a cancelled transaction was committed"

    # A long query cancelled while running: the connection is reset, not lost.
    await cancel_after(asyncio.ensure_future(client.execute_query("SELECT pg_sleep(5)")), 0.1)
    await assert_pg_healthy(client, pg_table)
    await prompt(client.close())

"""SQLite holds every moment as UTC text (``services.localtime.sqlite_text``, the sqlite3 adapter
``realname.dbclient.sqlite`` registers), and migration 0002 rewrites what older versions stored
with other offsets. PostgreSQL stores instants: the migration leaves it alone."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from tortoise import connections

from models import AuditLog
from services.localtime import sqlite_text
from tests.suite import uid

CST = dt.timezone(dt.timedelta(hours=8))
fix = importlib.import_module("migrations.0002_sqlite_utc_text")


def test_sqlite_text() -> None:
    assert sqlite_text(dt.datetime(2026, 7, 20, 8, 0, tzinfo=CST)) == "2026-07-20 00:00:00+00:00"
    assert sqlite_text(dt.datetime(2026, 7, 20, 0, 0, tzinfo=dt.UTC)) == "2026-07-20 00:00:00+00:00"
    assert sqlite_text(dt.datetime(2026, 7, 20, 0, 0)) == "2026-07-20 00:00:00"  # naive: as is
    # a terminal's reset clock: no UTC equivalent, kept (it sorts before every real moment)
    assert sqlite_text(dt.datetime(1, 1, 1, tzinfo=CST)) == "0001-01-01 00:00:00+08:00"


def test_utc_text_of_stored_values() -> None:
    assert fix.utc_text("2026-07-20 08:00:00.250000+08:00") == "2026-07-20 00:00:00.250000+00:00"
    assert fix.utc_text("2026-07-20 00:30:00-05:00") == "2026-07-20 05:30:00+00:00"
    kept = ("2026-07-20 00:00:00+00:00", "2026-07-20 00:00:00", "0001-01-01 00:00:00+08:00", "x")
    for untouched in kept:
        assert fix.utc_text(untouched) is None, untouched


async def test_migration_rewrites_offsets(database) -> None:
    conn = connections.get("default")
    if conn.capabilities.dialect != "sqlite":
        pytest.skip("PostgreSQL stores instants (timestamptz): the migration does nothing there")
    rows = [await AuditLog.create(action=uid("utc.")) for _ in range(3)]
    old = ["2026-07-20 08:00:00+08:00", "2026-07-20 00:30:00+00:00", "0001-01-01 00:00:00+08:00"]
    for row, text in zip(rows, old, strict=True):
        # as an older version stored it: the text the driver was given, offset and all
        await conn.execute_query("UPDATE audit_log SET at = ? WHERE id = ?", [text, row.id])
    await fix.rewrite(None, SimpleNamespace(client=conn))
    ids = ",".join(str(int(r.id)) for r in rows)
    _, got = await conn.execute_query(f"SELECT at FROM audit_log WHERE id IN ({ids}) ORDER BY at")
    assert [r[0] for r in got] == [
        "0001-01-01 00:00:00+08:00",
        "2026-07-20 00:00:00+00:00",
        "2026-07-20 00:30:00+00:00",
    ]

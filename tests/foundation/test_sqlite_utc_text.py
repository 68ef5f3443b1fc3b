"""SQLite holds every moment as UTC text (``services.localtime.sqlite_text``, the sqlite3 adapter
``realname.dbclient.sqlite`` registers), whatever offset it arrived with. PostgreSQL stores
instants (``timestamptz``)."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise import connections

from models import AuditLog
from services.localtime import sqlite_text
from tests.suite import uid

CST = dt.timezone(dt.timedelta(hours=8))


def test_sqlite_text() -> None:
    assert sqlite_text(dt.datetime(2026, 7, 20, 8, 0, tzinfo=CST)) == "2026-07-20 00:00:00+00:00"
    assert sqlite_text(dt.datetime(2026, 7, 20, 0, 0, tzinfo=dt.UTC)) == "2026-07-20 00:00:00+00:00"
    assert sqlite_text(dt.datetime(2026, 7, 20, 0, 0)) == "2026-07-20 00:00:00"  # naive: as is
    # a terminal's reset clock: no UTC equivalent, kept (it sorts before every real moment)
    assert sqlite_text(dt.datetime(1, 1, 1, tzinfo=CST)) == "0001-01-01 00:00:00+08:00"


async def test_the_orm_writes_and_filters_utc_text(database) -> None:
    """What the ORM writes goes through the adapter: a +08:00 moment is stored as UTC text, and
    a filter given another offset finds it (both sides are the same text)."""
    conn = connections.get("default")
    if conn.capabilities.dialect != "sqlite":
        pytest.skip("PostgreSQL stores instants (timestamptz)")
    action = uid("utc.")
    row = await AuditLog.create(action=action, at=dt.datetime(2026, 7, 20, 8, 0, tzinfo=CST))
    _, got = await conn.execute_query(f"SELECT at FROM audit_log WHERE id = {int(row.id)}")
    assert got[0][0] == "2026-07-20 00:00:00+00:00"
    since = dt.datetime(2026, 7, 19, 19, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # 00:00Z
    assert await AuditLog.filter(action=action, at__gte=since).count() == 1
    assert await AuditLog.filter(action=action, at__gt=since).count() == 0

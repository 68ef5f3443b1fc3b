"""Settling a member's day from accepted punches (rules 1 and 2).

A day is *normal* only with at least one in-punch and one out-punch, the first in before the last
out; its duration is last out − first in. A day with punches that break this is *abnormal*; the
current project-local day is *today* (pending, no duration) until it closes at 24:00. Absent days
have no row. Only accepted punches count.

Concurrency: two ingests may settle the same (member, day) at once, each from its own read of the
punches. Accepted punches are append-only, so a later read holds a superset of an earlier one and
``punch_count`` is a version: the upsert only replaces a row with a settlement from at least as
many punches, and never turns a closed day back into *today*. A stale write therefore loses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from tortoise import connections

from models import DailyAttendance, DayState, Direction, Punch, PunchStatus
from services import localtime
from services.attendance.clock import project_zone
from services.attendance.failures import _Failed, _set_aside_unmarked
from services.attendance.sql import _CHUNK, _marks

# --- settlement ----------------------------------------------------------------------------------


def settle(
    punches: Iterable[tuple[dt.datetime, str]], day: dt.date, today: dt.date
) -> tuple[DayState, dt.datetime | None, dt.datetime | None, int, int]:
    """Pure rule: (state, first_in, last_out, seconds, count) from a day's accepted punches.

    Moments are compared and subtracted in UTC (naive ones are UTC): two local times of one
    zone would otherwise be subtracted as wall-clock times, an hour off across a clock change.
    The same rule in SQL: ``_PG_SETTLE``; ``tests/attendance/settle_cases.py`` pins both.
    """
    ins: list[dt.datetime] = []
    outs: list[dt.datetime] = []
    for t, d in punches:
        (ins if d == Direction.IN else outs).append(_as_utc(t))
    count = len(ins) + len(outs)
    first_in = min(ins) if ins else None
    last_out = max(outs) if outs else None
    if count == 0:
        return DayState.ABSENT, None, None, 0, 0
    if day >= today:
        return DayState.TODAY, first_in, last_out, 0, count
    if first_in is not None and last_out is not None and first_in < last_out:
        seconds = int((last_out - first_in).total_seconds())
        return DayState.NORMAL, first_in, last_out, seconds, count
    return DayState.ABNORMAL, first_in, last_out, 0, count


_UPSERT_COLUMNS = (
    "project_id",
    "member_id",
    "day",
    "first_in",
    "last_out",
    "duration_seconds",
    "state",
    "punch_count",
    "settled_at",
)
# The version guard (see the module docstring): never replace a row with a settlement made from
# fewer punches, and never reopen a closed day as "today".
_UPSERT_TAIL = (
    " ON CONFLICT (member_id, day) DO UPDATE SET first_in=excluded.first_in,"
    " last_out=excluded.last_out, duration_seconds=excluded.duration_seconds,"
    " state=excluded.state, punch_count=excluded.punch_count, settled_at=excluded.settled_at"
    " WHERE excluded.punch_count > daily_attendance.punch_count"
    " OR (excluded.punch_count = daily_attendance.punch_count"
    " AND NOT (excluded.state = 'today' AND daily_attendance.state <> 'today'))"
)


_PG_UPSERT_TYPES = ("int", "int", "date", "timestamptz", "timestamptz", "int", "text", "int")
# PostgreSQL: one fixed statement text over column arrays, so asyncpg prepares it once per
# connection (a VALUES list of varying length was a new prepared statement on every pass).
_PG_UPSERT = (
    f"INSERT INTO daily_attendance ({','.join(_UPSERT_COLUMNS)}) SELECT * FROM unnest("
    + ",".join(f"${i + 1}::{t}[]" for i, t in enumerate(_PG_UPSERT_TYPES))
    + f", ${len(_PG_UPSERT_TYPES) + 1}::timestamptz[]){_UPSERT_TAIL}"
)


async def _upsert(rows: list[tuple]) -> None:
    """Write settled days with the version-guarded upsert (SQLite and PostgreSQL)."""
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    if pg:
        columns = [list(col) for col in zip(*rows, strict=True)]
        async with conn.acquire_connection() as c:
            await c.execute(_PG_UPSERT, *columns)
        return
    width = len(_UPSERT_COLUMNS)
    for i in range(0, len(rows), _CHUNK):
        chunk = rows[i : i + _CHUNK]
        sql = (
            f"INSERT INTO daily_attendance ({','.join(_UPSERT_COLUMNS)}) VALUES "
            f"{_marks(len(chunk), width, pg)}{_UPSERT_TAIL}"
        )
        await conn.execute_query(sql, [v for row in chunk for v in row])


def _settled_row(
    project_id: int,
    member_id: int,
    day: dt.date,
    punches: Iterable[tuple[dt.datetime, str]],
    today: dt.date,
    now: Any,
) -> tuple | None:
    """The daily_attendance row for a member-day (None when absent: no row is written)."""
    state, first_in, last_out, seconds, count = settle(punches, day, today)
    if state == DayState.ABSENT:
        return None
    return (
        project_id,
        member_id,
        day,
        _utc(first_in),
        _utc(last_out),
        seconds,
        state.value,
        count,
        now,
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _as_utc(value)


def _as_utc(value: dt.datetime) -> dt.datetime:
    """A moment in UTC (a naive value is UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


async def _write_settled(
    project_id: int,
    grouped: dict[tuple[int, dt.date], list[tuple[dt.datetime, str]]],
    wanted: Iterable[tuple[int, dt.date]],
    today: dt.date,
) -> int:
    now = localtime.now()
    rows = []
    for member_id, day in wanted:
        # Accepted punches are append-only: no punch means no row was ever written.
        row = _settled_row(
            project_id, member_id, day, grouped.get((member_id, day), ()), today, now
        )
        if row is not None:
            rows.append(row)
    if rows:
        await _upsert(rows)
    return len(rows)


async def settle_days(
    project_id: int, pairs: Iterable[tuple[int, dt.date]], today: dt.date | None = None
) -> int:
    """Re-settle the given (member id, day) pairs of one project from their accepted punches.

    Call it after the punches are committed (never inside the insert's transaction); safe to call
    concurrently for the same days. A day that cannot be settled does not stop the others: it is
    logged and set aside for the operators (see ``settle_pending``). Returns the number of days
    written.
    """
    wanted = {(m, d) for m, d in pairs}
    if not wanted:
        return 0
    today = today or localtime.today(await project_zone(project_id))
    items = sorted((project_id, m, d, today) for m, d in wanted)
    written, failed = await _settle_items(items)
    if failed:
        await _set_aside_unmarked(project_id, failed)
    return written


# One settlement item: (project id, member id, day, the project-local today). Items are always
# handled in (member, day) order, the one lock order of ``daily_attendance`` rows, so concurrent
# passes over overlapping days wait for each other but never deadlock.
_Item = tuple[int, int, dt.date, dt.date]

# PostgreSQL: a whole pass in one statement (one round trip): the accepted punches of the wanted
# member-days aggregated in the database (first in, last out, count), the rule of ``settle()``
# applied in SQL and the version-guarded upsert, in (member, day) order. Member-days without
# accepted punches get no row (absent), exactly like ``settle()``. A fixed text: prepared once per
# connection. The rule is written twice on purpose (one round trip per pass): every case of
# ``tests/attendance/settle_cases.py`` runs through both copies.
#
# ``_pg_settle_ctes`` is the part after the wanted member-days (a CTE ``w``: project_id,
# member_id, day, today; one row per (member, day)): ``_PG_SETTLE`` takes them as arrays, the
# pending drain (``services.attendance.pending``) from the marks it claims in the same statement.
# Each member-day's punches are read through the (member_id, local_date) index (a LATERAL
# aggregate per member-day): a plain join let the planner hash the whole accepted punch table
# on every pass (a sequential scan that grows with the table).


def _pg_settle_ctes(now: str) -> str:
    """The ``agg`` and ``up`` CTEs settling the member-days of ``w`` (``now``: the parameter of
    the settlement moment, e.g. ``$5``)."""
    return (
        " agg AS (SELECT w.project_id, w.member_id, w.day, w.today, a.first_in, a.last_out, a.n"
        " FROM w CROSS JOIN LATERAL (SELECT"
        " min(p.time) FILTER (WHERE p.direction = 'in') AS first_in,"
        " max(p.time) FILTER (WHERE p.direction <> 'in') AS last_out, count(*)::int AS n"
        " FROM punch p WHERE p.member_id = w.member_id AND p.local_date = w.day"
        " AND p.status = 'accepted') a WHERE a.n > 0),"
        f" up AS (INSERT INTO daily_attendance ({','.join(_UPSERT_COLUMNS)})"
        " SELECT project_id, member_id, day, first_in, last_out,"
        " CASE WHEN day < today AND first_in < last_out"
        " THEN floor(extract(epoch FROM last_out - first_in))::int ELSE 0 END,"
        " CASE WHEN day >= today THEN 'today' WHEN first_in < last_out THEN 'normal'"
        f" ELSE 'abnormal' END, n, {now}::timestamptz FROM agg"
        f" ORDER BY member_id, day{_UPSERT_TAIL})"
    )


_PG_SETTLE = (
    "WITH w AS (SELECT DISTINCT ON (member_id, day) * FROM"
    " unnest($1::int[], $2::int[], $3::date[], $4::date[]) AS w(project_id, member_id, day, today)"
    " ORDER BY member_id, day)," + _pg_settle_ctes("$5") + " SELECT count(*) FROM agg"
)
_SQLITE_UPSERT = (
    f"INSERT INTO daily_attendance ({','.join(_UPSERT_COLUMNS)})"
    f" VALUES ({','.join('?' * len(_UPSERT_COLUMNS))}){_UPSERT_TAIL}"
)


def _error_text(exc: BaseException) -> str:
    """How a failed settlement is recorded and logged: the error's type and message (database
    and conversion errors name values such as dates, never personal data)."""
    return f"{type(exc).__name__}: {exc}"[:500]


# The first day the platform settles (the statistics' first month is 2000-01): a pending day
# before it, or after the project's tomorrow, can only come from an impossible punch time that
# an older input check let through; it is set aside instead of written.
FIRST_SETTLED_DAY = dt.date(2000, 1, 1)


def _plausible(items: list[_Item]) -> tuple[list[_Item], _Failed]:
    """The items whose day can be settled, and the others as failures."""
    ok: list[_Item] = []
    failed: _Failed = {}
    for item in items:
        day, today = item[2], item[3]
        if FIRST_SETTLED_DAY <= day <= today + dt.timedelta(days=1):
            ok.append(item)
        else:
            failed[(item[1], day)] = f"ValueError: day {day.isoformat()} out of range"
    return ok, failed


def sqlite_settle(sqlconn: Any, items: list[_Item], now: dt.datetime) -> tuple[int, _Failed]:
    """Settle member-days inside the aiosqlite thread's current transaction: read their accepted
    punches, settle each with ``settle()`` and upsert. A day that raises (an impossible punch
    time, a failing row) is left out and reported; every other day is written."""
    items, failed = _plausible(items)
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for _, member_id, day, _ in items:
        by_day[day].append(member_id)
    cur = sqlconn.cursor()
    cur.row_factory = None  # plain tuples
    grouped: dict[tuple[int, dt.date], list[tuple[Any, str]]] = defaultdict(list)
    for day, members in by_day.items():
        for i in range(0, len(members), _CHUNK):
            ids = members[i : i + _CHUNK]
            cur.execute(
                "SELECT member_id, time, direction FROM punch WHERE local_date = ?"
                f" AND status = 'accepted' AND member_id IN ({','.join('?' * len(ids))})",
                [day.isoformat(), *ids],
            )
            for member_id, time, direction in cur.fetchall():
                grouped[(member_id, day)].append((time, direction))
    rows = []
    # settled_at as SQLite holds it, formatted once (not once per row)
    stamp = localtime.sqlite_text(now) if type(now) is dt.datetime else now
    for project_id, member_id, day, today in items:
        try:
            punches = [(_aware(t), d) for t, d in grouped.get((member_id, day), ())]
            row = _settled_row(project_id, member_id, day, punches, today, stamp)
        except Exception as exc:  # noqa: BLE001 - this day is set aside, the others settle
            failed[(member_id, day)] = _error_text(exc)
            continue
        if row is not None:
            rows.append(row)
    try:
        cur.execute("SAVEPOINT settle_all")
        cur.executemany(_SQLITE_UPSERT, rows)
        cur.execute("RELEASE settle_all")
    except Exception:  # noqa: BLE001 - find the failing rows one by one
        cur.execute("ROLLBACK TO settle_all")
        cur.execute("RELEASE settle_all")
        good = []
        for row in rows:
            try:
                cur.execute("SAVEPOINT settle_one")
                cur.execute(_SQLITE_UPSERT, row)
                cur.execute("RELEASE settle_one")
                good.append(row)
            except Exception as exc:  # noqa: BLE001 - this day is set aside
                cur.execute("ROLLBACK TO settle_one")
                cur.execute("RELEASE settle_one")
                failed[(row[1], row[2])] = _error_text(exc)
        rows = good
    cur.close()
    return len(rows), failed


def sqlite_in_transaction(sqlconn: Any, work: Any, *args: Any) -> Any:
    """Run ``work(sqlconn, *args)`` in the aiosqlite thread in one transaction (joining a
    caller's open transaction, which then commits)."""
    own = not sqlconn.in_transaction
    if own:
        sqlconn.execute("BEGIN IMMEDIATE")
    try:
        result = work(sqlconn, *args)
        if own:
            sqlconn.execute("COMMIT")
    except BaseException:
        if own and sqlconn.in_transaction:
            sqlconn.execute("ROLLBACK")
        raise
    return result


async def pg_contained(c: Any, fetch: Any, sql: str, *args: Any) -> Any:
    """``fetch(sql, *args)`` on PostgreSQL connection `c`, inside a savepoint when `c` is in a
    caller's transaction: a failing statement must not abort the caller's work."""
    if c.is_in_transaction():
        async with c.transaction():
            return await fetch(sql, *args)
    return await fetch(sql, *args)


async def _pg_settle(c: Any, items: list[_Item], now: dt.datetime) -> tuple[int, _Failed]:
    """Settle member-days on PostgreSQL: one statement for all; if it fails, each day alone
    (each contained: ``pg_contained``), so one failing day does not stop the others."""

    async def run(part: list[_Item]) -> int:
        columns = [list(col) for col in zip(*part, strict=True)]
        return int(await pg_contained(c, c.fetchval, _PG_SETTLE, *columns, now))

    items, failed = _plausible(items)
    if not items:
        return 0, failed
    try:
        return await run(items), failed
    except Exception as exc:  # noqa: BLE001 - isolate the failing day(s)
        if len(items) == 1:
            failed[(items[0][1], items[0][2])] = _error_text(exc)
            return 0, failed
    written = 0
    for item in items:
        try:
            written += await run([item])
        except Exception as exc:  # noqa: BLE001 - this day is set aside, the others settle
            failed[(item[1], item[2])] = _error_text(exc)
    return written, failed


async def _settle_items(items: list[_Item]) -> tuple[int, _Failed]:
    """Settle member-days (sorted by member, day): one statement on PostgreSQL, one hop to the
    connection thread on SQLite. The number of days written and the days that failed."""
    if not items:
        return 0, {}
    conn = connections.get("default")
    now = localtime.now()
    if conn.capabilities.dialect == "postgres":
        async with conn.acquire_connection() as c:
            return await _pg_settle(c, items, now)
    async with conn.acquire_connection() as aconn:
        written, failed = await aconn._execute(
            sqlite_in_transaction, aconn._conn, sqlite_settle, items, now
        )
        return int(written), failed


def _aware(value: Any) -> dt.datetime:
    """A punch time read raw (SQLite: ISO text with the offset it was stored with)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def settle_range(
    project_id: int, start: dt.date, end: dt.date, today: dt.date | None = None
) -> int:
    """Settle every member-day of a project between two dates (inclusive) in one scan."""
    today = today or localtime.today(await project_zone(project_id))
    rows = await Punch.filter(
        project_id=project_id,
        local_date__gte=start,
        local_date__lte=end,
        status=PunchStatus.ACCEPTED,
        member_id__not_isnull=True,
    ).values_list("member_id", "local_date", "time", "direction")
    grouped: dict[tuple[int, dt.date], list[tuple[dt.datetime, str]]] = defaultdict(list)
    for member_id, day, time, direction in rows:
        grouped[(member_id, day)].append((time, direction))
    return await _write_settled(project_id, grouped, list(grouped), today)


async def settle_stale(project_id: int, today: dt.date, start: dt.date, end: dt.date) -> int:
    """Settle-on-read: close the project's days between two dates still marked *today*."""
    pairs = await DailyAttendance.filter(
        project_id=project_id,
        day__gte=start,
        day__lte=min(end, today - dt.timedelta(days=1)),
        state=DayState.TODAY,
    ).values_list("member_id", "day")
    return await settle_days(project_id, pairs, today) if pairs else 0

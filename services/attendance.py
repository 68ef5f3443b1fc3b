"""Attendance engine: settling a member's day from accepted punches (rules 1 and 2).

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

import asyncio
import calendar
import contextlib
import datetime as dt
import logging
import re
import time as _time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.expressions import Q

from models import (
    DailyAttendance,
    DayState,
    Direction,
    PersonType,
    Project,
    ProjectMember,
    Punch,
    PunchSource,
    PunchStatus,
    UnitRole,
    WorkStatus,
)
from models.people import PERSON_TYPE_LABELS, POST_LABELS, WORK_STATUS_LABELS
from models.settlement import PendingSettlement
from realname.errors import NotFound, ValidationError
from services import localtime, pii

log = logging.getLogger("realname.attendance")

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
SETTLE_INTERVAL_SECONDS = 300  # the background sweep of closed days
_CHUNK = 500  # members per IN (...) list, rows per upsert statement

STATE_LABELS = {
    DayState.NORMAL: "正常出勤",
    DayState.ABNORMAL: "异常出勤",
    DayState.TODAY: "当日出勤（未统计时长）",
    DayState.ABSENT: "未出勤",
}
DIRECTION_LABELS = {Direction.IN: "进场", Direction.OUT: "出场"}
SOURCE_LABELS = {
    PunchSource.DEVICE: "考勤设备",
    PunchSource.MOBILE: "移动考勤",
    PunchSource.SUPPLEMENT: "考勤补录",
}
# Plain-Chinese reasons for rejected punches ("I punched but nothing shows").
REASON_LABELS = {
    "no_liveness": "未检测到活体",
    "contract_red": "合同红色预警（进场超过30天未上传劳动合同）",
    "missing_wage_card": "未登记工资卡或工种",
    "not_on_project": "不是本项目在职人员",
    "unknown_person": "设备上的人员未在平台登记",
    "time_in_future": "打卡时间晚于当前时间",
    "time_too_old": "打卡时间过早",
    "time_out_of_range": "打卡时间超出有效范围（早于进场日期、超过补传期限或设备时钟错误）",
    "bad_field": "打卡数据格式错误",
    "device_unbound": "设备未绑定项目",
    "device_offline": "设备已被强制下线",
    "duplicate": "重复打卡",
}


# --- time zones ----------------------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo of a project's time zone name (the platform's zone when unset or unknown):
    the same rule as the times shown in replies, ``services.localtime.zone``."""
    return localtime.zone(name)


def local_day(moment: dt.datetime, tz: ZoneInfo = DEFAULT_TZ) -> dt.date:
    """The project-local calendar day a moment belongs to (for a moment with no equivalent in
    ``tz``, such as ``0001-01-01 00:00`` at +08:00 from a reset terminal clock, the day as
    written: the punch pipeline rejects such times, this only keeps callers from crashing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(tz).date()
    except OverflowError:
        return moment.date()


def utcnow() -> dt.datetime:
    """The current moment (the one clock of the attendance engine; tests may replace it)."""
    return dt.datetime.now(dt.UTC)


def today_local(tz: ZoneInfo = DEFAULT_TZ) -> dt.date:
    """Today in the project's time zone."""
    return utcnow().astimezone(tz).date()


async def project_zone(project_id: int) -> ZoneInfo:
    """The time zone of a project."""
    name = await Project.filter(id=project_id).values_list("timezone", flat=True)
    return zone(cast(str, name[0]) if name else None)


def month_bounds(month: str) -> tuple[int, int, dt.date, dt.date]:
    """``YYYY-MM`` → (year, month, first day, last day); a ValidationError naming ``month``."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", (month or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise ValidationError("考勤月份格式应为 YYYY-MM", code="invalid_month", field="month")
    year, mon = int(m.group(1)), int(m.group(2))
    last = calendar.monthrange(year, mon)[1]
    return year, mon, dt.date(year, mon, 1), dt.date(year, mon, last)


# --- settlement ----------------------------------------------------------------------------------


def settle(
    punches: Iterable[tuple[dt.datetime, str]], day: dt.date, today: dt.date
) -> tuple[DayState, dt.datetime | None, dt.datetime | None, int, int]:
    """Pure rule: (state, first_in, last_out, seconds, count) from a day's accepted punches."""
    ins: list[dt.datetime] = []
    outs: list[dt.datetime] = []
    for t, d in punches:
        (ins if d == Direction.IN else outs).append(t)
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


def _dialect() -> str:
    return connections.get("default").capabilities.dialect


def _marks(n_rows: int, width: int, pg: bool, start: int = 1) -> str:
    """``(?,?),(?,?)`` or ``($1,$2),($3,$4)`` for a multi-row VALUES list."""
    if not pg:
        one = "(" + ",".join("?" * width) + ")"
        return ",".join([one] * n_rows)
    out = []
    i = start
    for _ in range(n_rows):
        out.append("(" + ",".join(f"${i + k}" for k in range(width)) + ")")
        i += width
    return ",".join(out)


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
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


async def _write_settled(
    project_id: int,
    grouped: dict[tuple[int, dt.date], list[tuple[dt.datetime, str]]],
    wanted: Iterable[tuple[int, dt.date]],
    today: dt.date,
) -> int:
    now = utcnow()
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
    today = today or today_local(await project_zone(project_id))
    items = sorted((project_id, m, d, today) for m, d in wanted)
    written, failed = await _settle_items(items)
    if failed:
        await _set_aside_unmarked(project_id, failed)
    return written


# One settlement item: (project id, member id, day, the project-local today). Items are always
# handled in (member, day) order, the one lock order of ``daily_attendance`` rows, so concurrent
# passes over overlapping days wait for each other but never deadlock.
_Item = tuple[int, int, dt.date, dt.date]
# A day that could not be settled: (member id, day) → the error (type and message, no data).
_Failed = dict[tuple[int, dt.date], str]

# PostgreSQL: a whole pass in one statement (one round trip): the accepted punches of the wanted
# member-days aggregated in the database (first in, last out, count), the rule of ``settle()``
# applied in SQL and the version-guarded upsert, in (member, day) order. Member-days without
# accepted punches get no row (absent), exactly like ``settle()``. A fixed text: prepared once per
# connection.
_PG_SETTLE = (
    "WITH w AS (SELECT * FROM unnest($1::int[], $2::int[], $3::date[], $4::date[])"
    " AS w(project_id, member_id, day, today)),"
    " agg AS (SELECT w.project_id, w.member_id, w.day, w.today,"
    " min(p.time) FILTER (WHERE p.direction = 'in') AS first_in,"
    " max(p.time) FILTER (WHERE p.direction <> 'in') AS last_out, count(*)::int AS n"
    " FROM w JOIN punch p ON p.member_id = w.member_id AND p.local_date = w.day"
    " WHERE p.status = 'accepted' GROUP BY w.project_id, w.member_id, w.day, w.today),"
    f" up AS (INSERT INTO daily_attendance ({','.join(_UPSERT_COLUMNS)})"
    " SELECT project_id, member_id, day, first_in, last_out,"
    " CASE WHEN day < today AND first_in < last_out"
    " THEN floor(extract(epoch FROM last_out - first_in))::int ELSE 0 END,"
    " CASE WHEN day >= today THEN 'today' WHEN first_in < last_out THEN 'normal'"
    f" ELSE 'abnormal' END, n, $5::timestamptz FROM agg ORDER BY member_id, day{_UPSERT_TAIL})"
    " SELECT count(*) FROM agg"
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


def _sqlite_settle(sqlconn: Any, items: list[_Item], now: dt.datetime) -> tuple[int, _Failed]:
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
    for project_id, member_id, day, today in items:
        try:
            punches = [(_aware(t), d) for t, d in grouped.get((member_id, day), ())]
            row = _settled_row(project_id, member_id, day, punches, today, now)
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


def _sqlite_in_transaction(sqlconn: Any, work: Any, *args: Any) -> Any:
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


async def _pg_settle(
    c: Any, items: list[_Item], now: dt.datetime, savepoints: bool
) -> tuple[int, _Failed]:
    """Settle member-days on PostgreSQL: one statement for all; if it fails, each day alone
    (in savepoints when inside a transaction), so one failing day does not stop the others."""

    async def run(part: list[_Item]) -> int:
        columns = [list(col) for col in zip(*part, strict=True)]
        if savepoints:
            async with c.transaction():
                return int(await c.fetchval(_PG_SETTLE, *columns, now))
        return int(await c.fetchval(_PG_SETTLE, *columns, now))

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
    now = utcnow()
    if conn.capabilities.dialect == "postgres":
        async with conn.acquire_connection() as c:
            return await _pg_settle(c, items, now, savepoints=c.is_in_transaction())
    async with conn.acquire_connection() as aconn:
        written, failed = await aconn._execute(
            _sqlite_in_transaction, aconn._conn, _sqlite_settle, items, now
        )
        return int(written), failed


def _aware(value: Any) -> dt.datetime:
    """A punch time read raw (SQLite: ISO text with the offset it was stored with)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def _accepted_punches(
    wanted: set[tuple[int, dt.date]],
) -> dict[tuple[int, dt.date], list[tuple[dt.datetime, str]]]:
    """(time, direction) of the accepted punches of each wanted member-day: raw SQL, one
    statement per day and 500 members (SQLite) or one for all pairs (PostgreSQL, unnest)."""
    conn = connections.get("default")
    grouped: dict[tuple[int, dt.date], list[tuple[dt.datetime, str]]] = defaultdict(list)
    pairs = sorted(wanted)
    if conn.capabilities.dialect == "postgres":
        sql = (
            "SELECT p.member_id, p.local_date, p.time, p.direction FROM punch p"
            " JOIN unnest($1::int[], $2::date[]) AS w(member_id, day)"
            " ON p.member_id = w.member_id AND p.local_date = w.day"
            " WHERE p.status = 'accepted'"
        )
        for i in range(0, len(pairs), 5 * _CHUNK):
            part = pairs[i : i + 5 * _CHUNK]
            async with conn.acquire_connection() as c:
                rows = await c.fetch(sql, [m for m, _ in part], [d for _, d in part])
            for member_id, day, time, direction in rows:
                grouped[(member_id, day)].append((time, direction))
        return grouped
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for member_id, day in pairs:
        by_day[day].append(member_id)
    for day, day_members in by_day.items():
        for i in range(0, len(day_members), _CHUNK):
            ids = day_members[i : i + _CHUNK]
            sql = (
                "SELECT member_id, time, direction FROM punch WHERE local_date = ?"
                f" AND status = 'accepted' AND member_id IN ({','.join('?' * len(ids))})"
            )
            _, rows = await conn.execute_query(sql, [day.isoformat(), *ids])
            for member_id, time, direction in rows:
                grouped[(member_id, day)].append((_aware(time), direction))
    return grouped


# --- pending settlements (the punch pipeline's touched days) -------------------------------------

PENDING_SWEEP_SECONDS = 5  # the periodic sweep of pending settlements (crash recovery)
PENDING_COALESCE_SECONDS = 0.01  # a drain starts this long after the first kick: under load,
# one pass settles the days of many requests
_ZONE_TTL = 30.0
_zones: dict[int, tuple[ZoneInfo, float]] = {}


async def _zone_of(project_id: int) -> ZoneInfo:
    """A project's time zone, cached briefly for the pending-settlement drain."""
    cached = _zones.get(project_id)
    now = _time.monotonic()
    if cached is not None and now - cached[1] < _ZONE_TTL:
        return cached[0]
    tz = await project_zone(project_id)
    if len(_zones) > 10_000:
        _zones.clear()
    _zones[project_id] = (tz, now)
    return tz


_PENDING_BATCH = 2000
PENDING_RETRY_FIRST_SECONDS = 60  # a day that failed is retried after 1 min, 2, 4, ... at most
PENDING_RETRY_MAX_SECONDS = 6 * 3600  # every 6 hours (and on ``realname settlement retry``)


def _retry_delay(attempts: int) -> dt.timedelta:
    """How long a member-day that failed ``attempts`` times is set aside."""
    seconds = PENDING_RETRY_FIRST_SECONDS * 2 ** min(max(attempts - 1, 0), 20)
    return dt.timedelta(seconds=min(seconds, PENDING_RETRY_MAX_SECONDS))


@dataclass
class _Claim:
    """The pending marks of one pass, by member-day."""

    ids: dict[tuple[int, dt.date], list[int]]
    project: dict[tuple[int, dt.date], int]
    attempts: dict[tuple[int, dt.date], int]

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]]) -> _Claim:
        claim = cls(defaultdict(list), {}, {})
        for mark_id, project_id, member_id, day, attempts in rows:
            day = dt.date.fromisoformat(day) if isinstance(day, str) else day
            key = (member_id, day)
            claim.ids[key].append(mark_id)
            claim.project[key] = project_id
            claim.attempts[key] = max(claim.attempts.get(key, 0), attempts or 0)
        return claim

    async def items(self) -> list[_Item]:
        todays: dict[int, dt.date] = {}
        out: list[_Item] = []
        for (member_id, day), project_id in self.project.items():
            today = todays.get(project_id)
            if today is None:
                today = todays[project_id] = today_local(await _zone_of(project_id))
            out.append((project_id, member_id, day, today))
        return sorted(out, key=lambda it: (it[1], it[2]))

    def done_ids(self, failed: _Failed) -> list[int]:
        return sorted(i for key, ids in self.ids.items() if key not in failed for i in ids)

    def set_aside(self, failed: _Failed, now: dt.datetime) -> list[tuple[Any, ...]]:
        """(attempts, error, failed_at, retry_at, ids) for each failed member-day, logged."""
        out = []
        for key, error in failed.items():
            attempts = self.attempts.get(key, 0) + 1
            retry_at = now + _retry_delay(attempts)
            log.error(
                "settlement of member %s day %s failed (attempt %d), set aside until %s: %s",
                key[0],
                key[1].isoformat(),
                attempts,
                retry_at.isoformat(timespec="seconds"),
                error,
            )
            out.append((attempts, error, now, retry_at, sorted(self.ids[key])))
        return out


_READY = "(retry_at IS NULL OR retry_at <= {now})"
_PG_CLAIM = (
    "SELECT id, project_id, member_id, day, attempts FROM settle_pending"
    f" WHERE {_READY.format(now='$2')} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
)
_SQLITE_CLAIM = (
    "SELECT id, project_id, member_id, day, attempts FROM settle_pending"
    f" WHERE {_READY.format(now='?')} ORDER BY id LIMIT ?"
)
_SET_ASIDE = "UPDATE settle_pending SET attempts = {}, error = {}, failed_at = {}, retry_at = {}"


def _db_time(value: dt.datetime) -> str:
    """A moment as SQLite stores Tortoise datetimes (UTC text, comparable as text)."""
    return str(value.astimezone(dt.UTC))


async def _pending_pass_pg(limit: int) -> tuple[int, int]:
    """One pass on PostgreSQL, in one transaction: claim up to ``limit`` ready marks (skipping
    those another worker holds), settle their days (a failing day alone, in a savepoint), delete
    the claimed marks of the days settled and set the failed ones aside."""
    conn = connections.get("default")
    now = utcnow()
    async with conn.acquire_connection() as c, c.transaction():
        rows = await c.fetch(_PG_CLAIM, limit, now)
        if not rows:
            return 0, 0
        claim = _Claim.of(tuple(r) for r in rows)
        items = await claim.items()
        written, failed = await _pg_settle(c, items, now, savepoints=True)
        done = claim.done_ids(failed)
        if done:
            await c.execute("DELETE FROM settle_pending WHERE id = ANY($1::bigint[])", done)
        for attempts, error, failed_at, retry_at, ids in claim.set_aside(failed, now):
            await c.execute(
                _SET_ASIDE.format("$1", "$2", "$3", "$4") + " WHERE id = ANY($5::bigint[])",
                attempts,
                error,
                failed_at,
                retry_at,
                ids,
            )
    return len(rows), written


def _sqlite_pending(
    sqlconn: Any, claim: _Claim, items: list[_Item], now: dt.datetime
) -> tuple[int, _Failed]:
    """In the aiosqlite thread's transaction: settle, delete the settled days' marks (only the
    ones read: a mark written meanwhile is a new row), set the failed days' marks aside."""
    written, failed = _sqlite_settle(sqlconn, items, now)
    done = claim.done_ids(failed)
    for i in range(0, len(done), _CHUNK):
        ids = done[i : i + _CHUNK]
        sqlconn.execute(f"DELETE FROM settle_pending WHERE id IN ({','.join('?' * len(ids))})", ids)
    for attempts, error, failed_at, retry_at, ids in claim.set_aside(failed, now):
        sqlconn.execute(
            _SET_ASIDE.format("?", "?", "?", "?") + f" WHERE id IN ({','.join('?' * len(ids))})",
            [attempts, error, _db_time(failed_at), _db_time(retry_at), *ids],
        )
    return written, failed


async def _pending_pass_sqlite(limit: int) -> tuple[int, int]:
    conn = connections.get("default")
    now = utcnow()
    _, rows = await conn.execute_query(_SQLITE_CLAIM, [_db_time(now), limit])
    if not rows:
        return 0, 0
    claim = _Claim.of(tuple(r) for r in rows)
    items = await claim.items()
    async with conn.acquire_connection() as aconn:
        written, _ = await aconn._execute(
            _sqlite_in_transaction, aconn._conn, _sqlite_pending, claim, items, now
        )
    return len(rows), int(written)


async def settle_pending(limit: int = _PENDING_BATCH) -> int:
    """Settle every member-day marked pending (``settle_pending`` rows) and clear the marks.

    Each pass claims up to ``limit`` marks that are ready (PostgreSQL: ``FOR UPDATE SKIP
    LOCKED``, so concurrent workers take different marks), settles their days in (member, day)
    order and deletes exactly the marks it claimed: a punch committed meanwhile wrote a new mark,
    settled on the next pass. A member-day whose settlement raises is set aside (its error,
    time and attempts recorded, logged, retried with a growing delay) and every other day still
    settles. Returns the number of days written.
    """
    pg = _dialect() == "postgres"
    total = 0
    while True:
        claimed, written = await (_pending_pass_pg(limit) if pg else _pending_pass_sqlite(limit))
        total += written
        if claimed < limit:
            return total


async def _set_aside_unmarked(project_id: int, failed: _Failed) -> None:
    """Record days that failed outside the pending pass (settle-on-read, the closed-day sweep,
    a supplement) as set-aside marks, so operators see them and they are retried."""
    now = utcnow()
    for (member_id, day), error in failed.items():
        marks = await PendingSettlement.filter(member_id=member_id, day=day).values_list(
            "id", "attempts"
        )
        attempts = max((a for _, a in marks), default=0) + 1
        retry_at = now + _retry_delay(attempts)
        log.error(
            "settlement of member %s day %s failed, set aside until %s: %s",
            member_id,
            day.isoformat(),
            retry_at.isoformat(timespec="seconds"),
            error,
        )
        if marks:
            await PendingSettlement.filter(id__in=[i for i, _ in marks]).update(
                attempts=attempts, error=error, failed_at=now, retry_at=retry_at
            )
        else:
            await PendingSettlement.create(
                project_id=project_id,
                member_id=member_id,
                day=day,
                attempts=attempts,
                error=error,
                failed_at=now,
                retry_at=retry_at,
            )


async def failed_days(project_id: int | None = None) -> list[dict[str, Any]]:
    """The member-days set aside because their settlement failed (for operators), newest first:
    project, member, day, attempts, the last error, when it failed and when it is retried."""
    qs = PendingSettlement.filter(failed_at__not_isnull=True)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    rows = await qs.order_by("-failed_at", "member_id", "day").values(
        "project_id", "member_id", "day", "attempts", "error", "failed_at", "retry_at"
    )
    seen: set[tuple[int, dt.date]] = set()
    out = []
    for row in rows:
        key = (row["member_id"], row["day"])
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


async def retry_failed(member_id: int | None = None, day: dt.date | None = None) -> int:
    """Make set-aside member-days ready again now (all, one member's, or one member-day); they
    settle on the next pass. The number of marks released."""
    qs = PendingSettlement.filter(retry_at__not_isnull=True)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if day is not None:
        qs = qs.filter(day=day)
    return await qs.update(retry_at=None)


@dataclass
class _Drainer:
    task: asyncio.Task | None = None
    again: bool = False


_drainers: dict[asyncio.AbstractEventLoop, _Drainer] = {}


def kick_pending() -> None:
    """Settle the pending member-days soon, in this process (after the current reply).

    Runs at most one drain per event loop; a kick during a drain makes it run once more.
    """
    loop = asyncio.get_running_loop()
    drainer = _drainers.get(loop)
    if drainer is None:
        for old in [lp for lp in _drainers if lp.is_closed()]:
            del _drainers[old]
        drainer = _drainers[loop] = _Drainer()
    if drainer.task is not None and not drainer.task.done():
        drainer.again = True
        return
    drainer.again = False
    drainer.task = loop.create_task(_drain(drainer))


async def _drain(drainer: _Drainer) -> None:
    while True:
        await asyncio.sleep(PENDING_COALESCE_SECONDS)  # the reply that kicked goes out first
        drainer.again = False
        try:
            await settle_pending()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the marks stay; the periodic sweep retries
            log.exception("settling pending days failed")
            return
        if not drainer.again:
            return


async def wait_pending(timeout: float = 60.0) -> None:
    """Wait until no ready pending mark is left: this process's running drain (if any) finishes,
    then passes settle what is still pending. On PostgreSQL a pass skips the marks another
    worker holds (the periodic sweep, another instance): those are waited for, until ``timeout``
    seconds. Set-aside marks (failed days waiting for their retry) are not waited for."""
    drainer = _drainers.get(asyncio.get_running_loop())
    if drainer is not None and drainer.task is not None:
        with contextlib.suppress(Exception):
            await drainer.task
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await settle_pending()
        ready = PendingSettlement.filter(Q(retry_at__isnull=True) | Q(retry_at__lte=utcnow()))
        if not await ready.exists() or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.05)


async def settle_range(
    project_id: int, start: dt.date, end: dt.date, today: dt.date | None = None
) -> int:
    """Settle every member-day of a project between two dates (inclusive) in one scan."""
    today = today or today_local(await project_zone(project_id))
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


async def settle_closed_days(today: dt.date | None = None) -> int:
    """Settle every day still marked *today* whose day has closed in its project's time zone."""
    # UTC+14 is the furthest ahead any zone gets: no zone's today is later than this bound.
    horizon = today or (utcnow() + dt.timedelta(hours=14)).date()
    open_rows = await DailyAttendance.filter(state=DayState.TODAY, day__lt=horizon).values_list(
        "project_id", "member_id", "day"
    )
    by_project: dict[int, set[tuple[int, dt.date]]] = defaultdict(set)
    for project_id, member_id, day in open_rows:
        by_project[project_id].add((member_id, day))
    total = 0
    for project_id, pairs in by_project.items():
        local_today = today or today_local(await project_zone(project_id))
        closed = {(m, d) for m, d in pairs if d < local_today}
        if closed:
            total += await settle_days(project_id, closed, local_today)
    return total


async def settle_stale(project_id: int, today: dt.date, start: dt.date, end: dt.date) -> int:
    """Settle-on-read: close the project's days between two dates still marked *today*."""
    pairs = await DailyAttendance.filter(
        project_id=project_id,
        day__gte=start,
        day__lte=min(end, today - dt.timedelta(days=1)),
        state=DayState.TODAY,
    ).values_list("member_id", "day")
    return await settle_days(project_id, pairs, today) if pairs else 0


def register_background(app: Any) -> None:
    """Background settlement in the app: pending member-days (at start-up, then every few
    seconds: recovers marks left by a crash) and the closed-day sweep every few minutes (not in
    tests, which call it)."""

    async def sweep() -> None:
        while True:
            try:
                n = await settle_closed_days()
                if n:
                    log.info("settled %d closed attendance days", n)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep sweeping; the next run retries
                log.exception("closed-day settlement failed")
            await asyncio.sleep(SETTLE_INTERVAL_SECONDS)

    async def pending_sweep() -> None:
        while True:
            try:
                n = await settle_pending()
                if n:
                    log.info("settled %d pending attendance days", n)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep sweeping; the next run retries
                log.exception("pending settlement failed")
            await asyncio.sleep(PENDING_SWEEP_SECONDS)

    @app.after_server_start
    async def _start_sweep(app: Any, _loop: Any = None) -> None:
        loop = asyncio.get_running_loop()
        app.ctx.pending_sweep = loop.create_task(pending_sweep())
        if getattr(app.ctx.settings, "env", "") == "test":
            return
        app.ctx.attendance_sweep = loop.create_task(sweep())

    @app.before_server_stop
    async def _stop_sweep(app: Any, _loop: Any = None) -> None:
        drainer = _drainers.get(asyncio.get_running_loop())
        if drainer is not None and drainer.task is not None:  # finish the settling under way
            with contextlib.suppress(Exception):
                await drainer.task
        for name in ("attendance_sweep", "pending_sweep"):
            task = getattr(app.ctx, name, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


# --- monthly statistics --------------------------------------------------------------------------

_ID_RE = re.compile(r"^(\d{17}[\dXx]|\d{15})$")
_PHONE_RE = re.compile(r"^1\d{10}$")
_SUB_ROLES = {UnitRole.SPECIALTY_SUB.value, UnitRole.LABOUR_SUB.value}
_WIDE_ROLES = {UnitRole.GENERAL_CONTRACTOR.value, UnitRole.BUILDER.value, UnitRole.SUPERVISOR.value}


@dataclass
class StatsFilter:
    """The filters of 打卡统计 / 出勤时长统计 (all optional)."""

    person_type: str | None = None
    work_status: str | None = None
    unit_id: int | None = None
    team_id: int | None = None
    q: str | None = None

    @classmethod
    def parse(cls, args: Any) -> StatsFilter:
        """Read and check the filters from query arguments (a mapping with ``.get``)."""

        def opt_int(name: str) -> int | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            if not raw.isdigit():
                raise ValidationError("筛选条件应为编号", code="invalid_field", field=name)
            return int(raw)

        person_type = (args.get("person_type") or "").strip() or None
        if person_type and person_type not in {p.value for p in PersonType}:
            raise ValidationError("人员类型应为 labour 或 management", field="person_type")
        work_status = (args.get("work_status") or "").strip() or None
        if work_status and work_status not in {w.value for w in WorkStatus}:
            raise ValidationError("工作状态应为 active 或 left", field="work_status")
        q = (args.get("q") or "").strip() or None
        return cls(person_type, work_status, opt_int("unit"), opt_int("team"), q)

    def audit_view(self) -> dict[str, Any]:
        """The filters for the audit log (the search text never: it may be an ID number)."""
        return {
            "person_type": self.person_type,
            "work_status": self.work_status,
            "unit": self.unit_id,
            "team": self.team_id,
            "q": bool(self.q),
        }


def visible_unit_ids(access: Any) -> set[int] | None:
    """Units whose members the caller may see: None for all; a subcontractor sees its own."""
    roles = set(access.unit_roles)
    if access.posts or not roles or roles & _WIDE_ROLES:
        return None
    if roles <= _SUB_ROLES:
        return set(access.unit_ids)
    return None


def _member_query(project_id: int, f: StatsFilter, units: set[int] | None) -> Any:
    qs = ProjectMember.filter(project_id=project_id)
    if units is not None:
        qs = qs.filter(unit_id__in=list(units))
    if f.person_type:
        qs = qs.filter(person_type=f.person_type)
    if f.work_status:
        qs = qs.filter(work_status=f.work_status)
    if f.unit_id:
        qs = qs.filter(unit_id=f.unit_id)
    if f.team_id:
        qs = qs.filter(team_id=f.team_id)
    if f.q:
        if _ID_RE.match(f.q):
            qs = qs.filter(person__id_number_bidx=pii.cipher().blind_index("id", f.q))
        elif _PHONE_RE.match(f.q):
            qs = qs.filter(person__phone_bidx=pii.cipher().blind_index("phone", f.q))
        else:
            qs = qs.filter(person__name__icontains=f.q)
    return qs


_MEMBER_VALUES = dict(
    unit_name="unit__enterprise__name",
    team_name="team__name",
    person_name="person__name",
    id_masked="person__id_number_masked",
    phone_masked="person__phone_masked",
    id_enc="person__id_number_enc",
    phone_enc="person__phone_enc",
)


def _member_columns(m: dict[str, Any], index: int, full_pii: bool) -> dict[str, Any]:
    labour = m["person_type"] == PersonType.LABOUR
    if full_pii:
        c = pii.cipher()
        id_number, phone = c.decrypt(m["id_enc"]) or "", c.decrypt(m["phone_enc"]) or ""
    else:
        id_number, phone = m["id_masked"] or "", m["phone_masked"] or ""
    post = m["post"] or ""
    return {
        "index": index,
        "member_id": m["id"],
        "unit_id": m["unit_id"],
        "unit_name": m["unit_name"] or "",
        "team_id": m["team_id"],
        "team_name": m["team_name"] or "",
        "person_type": str(m["person_type"]),
        "person_type_label": PERSON_TYPE_LABELS.get(PersonType(m["person_type"]), ""),
        "work_type_or_post": m["work_type"] if labour else _POST_TEXT.get(post, post),
        "work_status": str(m["work_status"]),
        "work_status_label": WORK_STATUS_LABELS.get(m["work_status"], ""),
        "name": m["person_name"],
        "id_number": id_number,
        "phone": phone,
    }


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


def _day_cells(
    cells: dict[int, tuple[str, int]], first: dt.date, n_days: int, durations: bool
) -> tuple[list[dict[str, Any]], int, int, int]:
    """Per-day cells and (attendance days, effective days, effective seconds)."""
    out = []
    attended = effective = seconds = 0
    for d in range(1, n_days + 1):
        state, secs = cells.get(d, (DayState.ABSENT.value, 0))
        cell: dict[str, Any] = {
            "day": d,
            "date": (first.replace(day=d)).isoformat(),
            "state": state,
        }
        if state != DayState.ABSENT:
            attended += 1
        if state == DayState.NORMAL:
            effective += 1
            seconds += secs
        if durations:
            cell["hours"] = _hours(secs) if state == DayState.NORMAL else 0
        out.append(cell)
    return out, attended, effective, seconds


async def _day_rows(
    project_id: int, member_ids: Sequence[int], first: dt.date, last: dt.date, today: dt.date
) -> dict[int, dict[int, tuple[str, int]]]:
    """{member: {day of month: (state, seconds)}} for the members, settling stale days first."""
    by_member: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    if not member_ids:
        return by_member
    rows = await DailyAttendance.filter(
        member_id__in=list(member_ids), day__gte=first, day__lte=last
    ).values_list("member_id", "day", "state", "duration_seconds")
    stale = [(m, d) for m, d, s, _ in rows if s == DayState.TODAY and d < today]
    if stale:  # a closed day is never shown as today
        await settle_days(project_id, stale, today)
        rows = await DailyAttendance.filter(
            member_id__in=list(member_ids), day__gte=first, day__lte=last
        ).values_list("member_id", "day", "state", "duration_seconds")
    for member_id, day, state, seconds in rows:
        by_member[member_id][day.day] = (str(state), seconds)
    return by_member


_PAGE_SELECT = (
    "SELECT m.id, m.person_type, m.work_type, m.post, m.work_status, m.unit_id, m.team_id, "
    "e.name, t.name, p.name, p.id_number_masked, p.phone_masked, p.id_number_enc, p.phone_enc, "
    "count(*) OVER () FROM project_member m JOIN person p ON p.id = m.person_id "
    "JOIN participating_unit u ON u.id = m.unit_id JOIN enterprise e ON e.id = u.enterprise_id "
    "LEFT JOIN team t ON t.id = m.team_id WHERE "
)
_PAGE_KEYS = (
    "id",
    "person_type",
    "work_type",
    "post",
    "work_status",
    "unit_id",
    "team_id",
    "unit_name",
    "team_name",
    "person_name",
    "id_masked",
    "phone_masked",
    "id_enc",
    "phone_enc",
)


def _page_where(project_id: int, f: StatsFilter, units: set[int] | None) -> tuple[list, list]:
    """The statistics filters as SQL conditions and parameters (same rules as _member_query)."""
    conds: list[str] = ["m.project_id = {}"]
    params: list[Any] = [project_id]
    if units is not None:
        conds.append("m.unit_id IN ({})".format(",".join(["{}"] * len(units)) or "NULL"))
        params += sorted(units)
    for column, value in (
        ("m.person_type", f.person_type),
        ("m.work_status", f.work_status),
        ("m.unit_id", f.unit_id),
        ("m.team_id", f.team_id),
    ):
        if value:
            conds.append(f"{column} = {{}}")
            params.append(value)
    if f.q:
        if _ID_RE.match(f.q):
            conds.append("p.id_number_bidx = {}")
            params.append(pii.cipher().blind_index("id", f.q))
        elif _PHONE_RE.match(f.q):
            conds.append("p.phone_bidx = {}")
            params.append(pii.cipher().blind_index("phone", f.q))
        else:
            conds.append("lower(p.name) LIKE {} ESCAPE '\\'")
            escaped = f.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
    return conds, params


def _render(sql: str, n: int, pg: bool) -> str:
    """Fill ``{}`` placeholders with ``?`` (SQLite) or ``$1..$n`` (PostgreSQL)."""
    return sql.format(*(f"${i}" for i in range(1, n + 1))) if pg else sql.format(*("?" * n))


async def month_stats(
    access: Any, month: str, f: StatsFilter, page_no: int, size: int, *, durations: bool
) -> tuple[list[dict[str, Any]], int]:
    """One page of 打卡统计 (or 出勤时长统计 with ``durations``): rows and the filtered total.

    One statement for the page, its days and the filtered total (plus a count past the end).
    """
    project = access.project
    _, _, first, last = month_bounds(month)
    today = today_local(zone(project.timezone))
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    conds, params = _page_where(project.id, f, visible_unit_ids(access))
    day_expr = "EXTRACT(DAY FROM d.day)::int" if pg else "CAST(substr(d.day, 9, 2) AS INTEGER)"
    # One statement: the filtered page (with its total as a window count) joined to its days.
    sql = (
        "WITH pg AS ("
        + _PAGE_SELECT
        + " AND ".join(conds)
        + " ORDER BY m.id LIMIT {} OFFSET {}) SELECT pg.*, "
        + day_expr
        + ", d.state, d.duration_seconds FROM pg LEFT JOIN daily_attendance d"
        " ON d.member_id = pg.id AND d.day BETWEEN {} AND {} ORDER BY pg.id"
    )
    params += [
        size,
        (page_no - 1) * size,
        first if pg else first.isoformat(),
        last if pg else last.isoformat(),
    ]
    sql = _render(sql, len(params), pg)
    _, raw_rows = await conn.execute_query(sql, params)
    stale = [
        (r[0], first.replace(day=r[-3]))
        for r in raw_rows
        if r[-2] == DayState.TODAY and first.replace(day=r[-3]) < today
    ]
    if stale:  # settle-on-read: a closed day is never shown as today
        await settle_days(project.id, stale, today)
        _, raw_rows = await conn.execute_query(sql, params)
    members: list[dict[str, Any]] = []
    days: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    for r in raw_rows:
        if not members or members[-1]["id"] != r[0]:
            members.append(dict(zip(_PAGE_KEYS, r, strict=False)))
        if r[-3] is not None:
            days[r[0]][r[-3]] = (r[-2], r[-1])
    if members:
        total = raw_rows[0][len(_PAGE_KEYS)]
    else:  # past the last page: the total still has to be reported
        total = await _member_query(project.id, f, visible_unit_ids(access)).count()
    full = access.can("view_pii")
    out = []
    for i, m in enumerate(members):
        row = _member_columns(m, (page_no - 1) * size + i + 1, full)
        cells, attended, effective, seconds = _day_cells(
            days.get(m["id"], {}), first, last.day, durations
        )
        row.update(days=cells, attendance_days=attended, effective_days=effective)
        if durations:
            row["effective_hours"] = _hours(seconds)
        out.append(row)
    return out, total


async def iter_month_rows(
    access: Any, month: str, f: StatsFilter, batch: int = 1000
) -> AsyncIterator[tuple[list[dict[str, Any]], dict[int, dict[int, tuple[str, int]]]]]:
    """Every filtered member of the month in batches: (member rows, {member: {day: cell}})."""
    project = access.project
    _, _, first, last = month_bounds(month)
    today = today_local(zone(project.timezone))
    await settle_stale(project.id, today, first, last)
    qs = _member_query(project.id, f, visible_unit_ids(access))
    after = 0
    while True:
        members = (
            await qs.filter(id__gt=after)
            .order_by("id")
            .limit(batch)
            .values(
                "id",
                "person_type",
                "work_type",
                "post",
                "work_status",
                "unit_id",
                "team_id",
                **_MEMBER_VALUES,
            )
        )
        if not members:
            return
        after = members[-1]["id"]
        days = await _bulk_cells(project.id, members[0]["id"], after, first, last)
        yield members, days
        if len(members) < batch:
            return


async def _bulk_cells(
    project_id: int, lo: int, hi: int, first: dt.date, last: dt.date
) -> dict[int, dict[int, tuple[str, int]]]:
    """Day cells of a member-id range of a project (raw rows: this is the export's hot path)."""
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    if pg:
        sql = (
            "SELECT member_id, EXTRACT(DAY FROM day)::int, state, duration_seconds "
            "FROM daily_attendance WHERE project_id=$1 AND member_id BETWEEN $2 AND $3 "
            "AND day BETWEEN $4 AND $5"
        )
        params: list[Any] = [project_id, lo, hi, first, last]
    else:
        sql = (
            "SELECT member_id, CAST(substr(day, 9, 2) AS INTEGER), state, duration_seconds "
            "FROM daily_attendance WHERE project_id=? AND member_id BETWEEN ? AND ? "
            "AND day BETWEEN ? AND ?"
        )
        params = [project_id, lo, hi, first.isoformat(), last.isoformat()]
    _, rows = await conn.execute_query(sql, params)
    out: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    for r in rows:
        out[r[0]][r[1]] = (r[2], r[3])
    return out


# --- punch diagnosis, month view, workbench ------------------------------------------------------


def punch_public(p: dict[str, Any], photo_url: str | None) -> dict[str, Any]:
    """The reply shape of one punch, with the reason in plain Chinese."""
    reason = p.get("reason")
    status = str(p["status"])
    return {
        "id": p["id"],
        "time": p["time"],
        "direction": str(p["direction"]),
        "direction_label": DIRECTION_LABELS.get(p["direction"], str(p["direction"])),
        "status": status,
        "accepted": status == PunchStatus.ACCEPTED,
        "reason": reason,
        "reason_label": REASON_LABELS.get(reason, reason) if reason else None,
        "source": str(p["source"]),
        "source_label": SOURCE_LABELS.get(p["source"], ""),
        "device_sn": p.get("device_sn"),
        "liveness": p["liveness"],
        "received_at": p["received_at"],
        "photo_url": photo_url,
    }


def _day_window(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)


async def _punches(
    member: ProjectMember, first: dt.date, last: dt.date, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Every punch of a member between two local days, accepted or rejected (also those the
    device sent for the person but the pipeline could not tie to the membership)."""
    start, _ = _day_window(first, tz)
    _, end = _day_window(last, tz)
    who = Q(member_id=member.id) | Q(
        person_id=member.person_id,  # type: ignore[attr-defined]
        project_id=member.project_id,  # type: ignore[attr-defined]
        member_id=None,
    )
    when = Q(local_date__gte=first, local_date__lte=last) | Q(
        local_date=None, time__gte=start, time__lt=end
    )
    rows = (
        await Punch.filter(who, when)
        .order_by("time", "id")
        .values(
            "id",
            "time",
            "local_date",
            "direction",
            "status",
            "reason",
            "source",
            "liveness",
            "received_at",
            "photo_key",
            device_sn="device__sn",
        )
    )
    for r in rows:
        r["day"] = r["local_date"] or local_day(r["time"], tz)
    return rows


async def member_day_punches(
    project: Project, member_id: int, day: dt.date, photo_url: Any = None
) -> dict[str, Any]:
    """Punch diagnosis: every punch received for a member on a day, with the day's settlement."""
    member = await ProjectMember.get_or_none(id=member_id, project_id=project.id)
    if member is None:
        raise NotFound("该项目没有此人员", code="member_not_found")
    tz = zone(project.timezone)
    today = today_local(tz)
    rows = await _punches(member, day, day, tz)
    punches = [
        punch_public(r, photo_url(r) if photo_url and r["photo_key"] else None) for r in rows
    ]
    accepted = [(r["time"], r["direction"]) for r in rows if r["status"] == PunchStatus.ACCEPTED]
    state, first_in, last_out, seconds, count = settle(accepted, day, today)
    return {
        "member_id": member.id,
        "date": day.isoformat(),
        "state": state.value,
        "state_label": STATE_LABELS[state],
        "first_in": first_in,
        "last_out": last_out,
        "hours": _hours(seconds),
        "accepted_count": count,
        "rejected_count": len(rows) - count,
        "punches": punches,
    }


async def member_month(
    member_id: int, year: int, month: int, photo_url: Any = None
) -> dict[str, Any]:
    """A member's calendar for a month: per-day state, hours and punches (mini-program view)."""
    member = await ProjectMember.get_or_none(id=member_id).select_related("project")
    if member is None:
        raise NotFound("人员不存在", code="member_not_found")
    _, _, first, last = month_bounds(f"{year:04d}-{month:02d}")
    project = member.project
    tz = zone(project.timezone)
    today = today_local(tz)
    cells = (await _day_rows(project.id, [member.id], first, last, today)).get(member.id, {})
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for r in await _punches(member, first, last, tz):
        by_day[r["day"]].append(
            punch_public(r, photo_url(r) if photo_url and r["photo_key"] else None)
        )
    days, attended, effective, seconds = _day_cells(cells, first, last.day, durations=True)
    for cell in days:
        cell["state_label"] = STATE_LABELS[DayState(cell["state"])]
        cell["punches"] = by_day.get(dt.date.fromisoformat(cell["date"]), [])
        cell["future"] = dt.date.fromisoformat(cell["date"]) > today
    return {
        "member_id": member.id,
        "project_code": project.code,
        "project_name": project.name,
        "year": year,
        "month": month,
        "days": days,
        "attendance_days": attended,
        "effective_days": effective,
        "effective_hours": _hours(seconds),
    }


async def workbench_summary(project_id: int, today: dt.date | None = None) -> dict[str, Any]:
    """Today's on-site count by person type and unit, and this month's attendance rate.

    On site today: members with at least one accepted punch today (project-local). Attendance
    rate: attended member-days ÷ expected member-days, from the 1st (or entry date) to today,
    over members on the project then (entered, not yet exited).
    """
    project = await Project.get(id=project_id)
    today = today or today_local(zone(project.timezone))
    first = today.replace(day=1)
    await settle_stale(project_id, today, first, today)
    present = await DailyAttendance.filter(project_id=project_id, day=today).values_list(
        "member_id", flat=True
    )
    present_set = set(present)
    members = await ProjectMember.filter(project_id=project_id).values(
        "id",
        "person_type",
        "unit_id",
        "entry_date",
        "exit_date",
        "work_status",
        unit_name="unit__enterprise__name",
    )
    by_type: dict[str, int] = {PersonType.LABOUR.value: 0, PersonType.MANAGEMENT.value: 0}
    by_unit: dict[int, dict[str, Any]] = {}
    expected = 0
    for m in members:
        start = max(first, m["entry_date"] or first)
        end = today
        if m["exit_date"]:
            end = min(end, m["exit_date"])
        elif m["work_status"] == WorkStatus.LEFT:
            end = first - dt.timedelta(days=1)  # left, exit date unknown: not expected
        if end >= start:
            expected += (end - start).days + 1
        if m["id"] in present_set:
            by_type[str(m["person_type"])] = by_type.get(str(m["person_type"]), 0) + 1
            u = by_unit.setdefault(
                m["unit_id"],
                {"unit_id": m["unit_id"], "unit_name": m["unit_name"] or "", "count": 0},
            )
            u["count"] += 1
    attended = await DailyAttendance.filter(
        project_id=project_id, day__gte=first, day__lte=today
    ).count()
    rate = round(attended / expected, 4) if expected else 0.0
    return {
        "date": today.isoformat(),
        "on_site_total": len(present_set),
        "on_site_by_person_type": [
            {"person_type": k, "label": PERSON_TYPE_LABELS.get(PersonType(k), k), "count": v}
            for k, v in by_type.items()
        ],
        "on_site_by_unit": sorted(by_unit.values(), key=lambda u: -u["count"]),
        "month": first.strftime("%Y-%m"),
        "attended_member_days": attended,
        "expected_member_days": expected,
        "attendance_rate": rate,
    }


async def member_for_person(project_id: int, person_id: int) -> ProjectMember | None:
    """The person's membership of a project (for the mini-program's own-attendance view)."""
    return await ProjectMember.get_or_none(project_id=project_id, person_id=person_id)


# --- exports -------------------------------------------------------------------------------------

LEAD_COLUMNS = [
    ("序号", 6),
    ("所属单位", 24),
    ("所属班组", 14),
    ("人员类型", 10),
    ("工种/岗位", 12),
    ("工作状态", 9),
    ("姓名", 10),
    ("身份证号", 21),
    ("手机号", 14),
]
_POST_TEXT = cast(dict[str, str], POST_LABELS)  # posts arrive as plain strings from SQL rows

EXPORT_STYLES: dict[str, dict[str, Any]] = {
    "green": {"font_color": "#1E8E3E", "bold": True, "align": "center"},
    "grey": {"font_color": "#9AA0A6", "align": "center"},
    "absent": {"font_color": "#D93025", "align": "center"},
}


def export_columns(n_days: int, durations: bool) -> list[Any]:
    """The manual's headers in its order: member columns, 1..N, 出勤天数, 有效出勤天数/时长."""
    from services.exports import Column

    cols = [Column(h, w) for h, w in LEAD_COLUMNS]
    cols += [Column(str(d), 5 if not durations else 6) for d in range(1, n_days + 1)]
    cols += [Column("出勤天数", 9), Column("有效出勤时长" if durations else "有效出勤天数", 12)]
    return cols


def _export_rows(
    members: list[dict[str, Any]],
    days: dict[int, dict[int, tuple[str, int]]],
    start_index: int,
    n_days: int,
    durations: bool,
    full_pii: bool,
) -> list[list]:
    """Sheet rows for a batch of members (✓/X or hours per day)."""
    from services.exports import Cell

    green, grey, absent = Cell("✓", "green"), Cell("✓", "grey"), Cell("X", "absent")
    grey0 = Cell(0, "grey")
    normal, absent_state = DayState.NORMAL.value, DayState.ABSENT.value
    blank = [0 if durations else absent] * n_days
    empty: dict[int, tuple[str, int]] = {}
    out = []
    for i, m in enumerate(members):
        c = _member_columns(m, start_index + i, full_pii)
        day_cells = blank.copy()
        attended = effective = seconds = 0
        for d, (state, secs) in days.get(m["id"], empty).items():
            if state == absent_state or not 1 <= d <= n_days:
                continue
            attended += 1
            if state == normal:
                effective += 1
                seconds += secs
                day_cells[d - 1] = Cell(_hours(secs), "green") if durations else green
            else:
                day_cells[d - 1] = grey0 if durations else grey
        out.append(
            [
                c["index"],
                c["unit_name"],
                c["team_name"],
                c["person_type_label"],
                c["work_type_or_post"],
                c["work_status_label"],
                c["name"],
                c["id_number"],
                c["phone"],
                *day_cells,
                attended,
                _hours(seconds) if durations else effective,
            ]
        )
    return out


async def export_month(
    access: Any, month: str, f: StatsFilter, *, durations: bool, tmpdir: str | None = None
) -> tuple[str, int]:
    """Write the month's statistics for every filtered member to a temp .xlsx; (path, rows)."""
    from services.exports import write_xlsx

    _, _, first, last = month_bounds(month)
    full = access.can("view_pii")

    async def batches() -> AsyncIterator[list[list]]:
        index = 1
        async for members, days in iter_month_rows(access, month, f):
            yield _export_rows(members, days, index, last.day, durations, full)
            index += len(members)

    sheet = "出勤时长统计" if durations else "打卡统计"
    return await write_xlsx(
        export_columns(last.day, durations),
        batches(),
        sheet=sheet,
        styles=EXPORT_STYLES,
        tmpdir=tmpdir,
    )


async def member_in_project(project_id: int, member_id: int) -> bool:
    """Whether the member belongs to the project."""
    return await ProjectMember.filter(id=member_id, project_id=project_id).exists()


async def punch_photo_key(project_id: int, punch_id: int) -> str:
    """The file-store key of a punch's photo (NotFound when none or not this project's)."""
    keys = await Punch.filter(id=punch_id, project_id=project_id).values_list(
        "photo_key", flat=True
    )
    if not keys or not keys[0]:
        raise NotFound("该打卡记录没有照片", code="photo_not_found")
    return str(keys[0])

"""Pending settlements: the member-days the punch pipeline marks, drained after each commit,
swept periodically (crash recovery), set aside with a back-off when they fail, retried."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.expressions import Q

from models.settlement import PendingSettlement
from services import localtime
from services.attendance.clock import _zone_of, cached_zones
from services.attendance.failures import _Failed, _retry_delay
from services.attendance.settlement import (
    FIRST_SETTLED_DAY,
    _Item,
    _pg_settle,
    _pg_settle_ctes,
    pg_contained,
    sqlite_in_transaction,
    sqlite_settle,
)
from services.attendance.sql import _CHUNK, _dialect

log = logging.getLogger("realname.attendance")


# --- pending settlements (the punch pipeline's touched days) -------------------------------------

PENDING_SWEEP_SECONDS = 5  # the periodic sweep of pending settlements (crash recovery)
PENDING_COALESCE_SECONDS = 0.01  # a drain starts this long after the first kick: under load,
# one pass settles the days of many requests


_PENDING_BATCH = 2000


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
                today = todays[project_id] = localtime.today(await _zone_of(project_id))
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
    """A moment of ``settle_pending`` as SQLite holds it: UTC text, comparable as text."""
    return localtime.sqlite_text(value.astimezone(dt.UTC))


# PostgreSQL, the common pass in one statement (one round trip, its own atomic transaction):
# claim up to $1 ready marks ($2: now), settle the member-days of the projects whose today is
# known ($3 project ids, $4 their todays; the settlement's CTEs) and delete the claimed marks of
# the days settled. A claimed mark of another project, or of a day outside the settled range
# (``FIRST_SETTLED_DAY`` … the project's tomorrow), is neither settled nor deleted (its lock ends
# with the statement): the statement counts both, and either sends the caller to the general pass
# (``_pending_pass_pg_general``), which learns the other projects' zones and sets such days
# aside. Its answer: (marks claimed, days written, days out of range, marks of other projects).
# (The claim is the general pass's; a separate look for other projects' marks scanned the whole
# table, dead rows included, on every pass.)
_PG_DRAIN = (
    "WITH c AS (SELECT id, project_id, member_id, day FROM settle_pending"
    f" WHERE {_READY.format(now='$2')} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED),"
    " ct AS (SELECT c.*, t.today,"
    f" c.day >= DATE '{FIRST_SETTLED_DAY.isoformat()}' AND c.day <= t.today + 1 AS plausible"
    " FROM c LEFT JOIN unnest($3::int[], $4::date[]) AS t(project_id, today) USING (project_id)),"
    " k AS (SELECT DISTINCT ON (member_id, day) project_id, member_id, day, today, plausible"
    " FROM ct WHERE today IS NOT NULL ORDER BY member_id, day),"
    " w AS (SELECT project_id, member_id, day, today FROM k WHERE plausible),"
    + _pg_settle_ctes("$2")
    # By id (one index probe each): a join of two CTEs is estimated at one row and was planned
    # as a nested loop, quadratic in the claimed marks.
    + ", del AS (DELETE FROM settle_pending"
    " WHERE id = ANY(ARRAY(SELECT id FROM ct WHERE plausible)))"
    " SELECT (SELECT count(*) FROM c)::int, (SELECT count(*) FROM agg)::int,"
    " (SELECT count(*) FROM k WHERE NOT plausible)::int,"
    " (SELECT count(*) FROM ct WHERE today IS NULL)::int"
)


async def _pg_drain_pass(limit: int, zones: dict[int, ZoneInfo]) -> tuple[int, int, int, bool]:
    """``_PG_DRAIN`` with these projects' zones (their todays): (marks claimed, days written,
    days left out of range, marks of other projects left)."""
    now = localtime.now()
    projects = sorted(zones)
    todays = [localtime.today(zones[p]) for p in projects]
    conn = connections.get("default")
    async with conn.acquire_connection() as c:
        row = await pg_contained(c, c.fetchrow, _PG_DRAIN, limit, now, projects, todays)
    return row[0], row[1], row[2], row[3] > 0


async def _pending_pass_pg(limit: int) -> tuple[int, int]:
    """One pass on PostgreSQL: the one-statement pass (``_PG_DRAIN``) over the projects whose
    zone the drain knows, then the general pass when it leaves anything to it (a day out of
    range, marks of other projects, an error)."""
    zones = cached_zones()
    if zones:
        try:
            claimed, written, out_of_range, others = await _pg_drain_pass(limit, zones)
        except Exception:  # noqa: BLE001 - nothing of it is kept; the general pass isolates it
            log.warning("the one-statement settlement pass failed", exc_info=True)
        else:
            if not out_of_range and not others:
                return claimed, written
            more, written_more = await _pending_pass_pg_general(limit)
            return max(claimed, more), written + written_more
    return await _pending_pass_pg_general(limit)


async def _pending_pass_pg_general(limit: int) -> tuple[int, int]:
    """One pass on PostgreSQL, in one transaction: claim up to ``limit`` ready marks (skipping
    those another worker holds), settle their days (a failing day alone, in a savepoint), delete
    the claimed marks of the days settled and set the failed ones aside."""
    conn = connections.get("default")
    now = localtime.now()
    async with conn.acquire_connection() as c, c.transaction():
        rows = await c.fetch(_PG_CLAIM, limit, now)
        if not rows:
            return 0, 0
        claim = _Claim.of(tuple(r) for r in rows)
        items = await claim.items()
        written, failed = await _pg_settle(c, items, now)
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
    written, failed = sqlite_settle(sqlconn, items, now)
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
    now = localtime.now()
    _, rows = await conn.execute_query(_SQLITE_CLAIM, [_db_time(now), limit])
    if not rows:
        return 0, 0
    claim = _Claim.of(tuple(r) for r in rows)
    items = await claim.items()
    async with conn.acquire_connection() as aconn:
        written, _ = await aconn._execute(
            sqlite_in_transaction, aconn._conn, _sqlite_pending, claim, items, now
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


@dataclass
class _Drainer:
    task: asyncio.Task | None = None
    again: bool = False
    soon: bool = False  # the next pass starts without the coalescing delay


_drainers: dict[asyncio.AbstractEventLoop, _Drainer] = {}


def kick_pending(batch: bool = False) -> None:
    """Settle the pending member-days soon, in this process (after the current reply).

    Runs at most one drain per event loop; a kick during a drain makes it run once more. A
    ``batch`` kick (a large upload: its days alone fill a pass) starts that pass without
    waiting ``PENDING_COALESCE_SECONDS`` for other requests' days.
    """
    loop = asyncio.get_running_loop()
    drainer = _drainers.get(loop)
    if drainer is None:
        for old in [lp for lp in _drainers if lp.is_closed()]:
            del _drainers[old]
        drainer = _drainers[loop] = _Drainer()
    drainer.soon = drainer.soon or batch
    if drainer.task is not None and not drainer.task.done():
        drainer.again = True
        return
    drainer.again = False
    drainer.task = loop.create_task(_drain(drainer))


async def _drain(drainer: _Drainer) -> None:
    while True:
        # The reply that kicked goes out first (the drain is a task of its own, run after the
        # kicking code's next await); small requests' days are gathered for a moment.
        await asyncio.sleep(0 if drainer.soon else PENDING_COALESCE_SECONDS)
        drainer.again = drainer.soon = False
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
        ready = PendingSettlement.filter(
            Q(retry_at__isnull=True) | Q(retry_at__lte=localtime.now())
        )
        if not await ready.exists() or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.05)

"""The one normalised punch pipeline, used by every device adapter (native protocol, ADMS).

parse → validate → resolve persons (one query for the batch) → rules (liveness, on this project,
``services.rules``) → one idempotent bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (committed
before any result is produced) → per-punch results in request order → the touched days re-settled.

Rejected punches are stored too, with their reason, so "I punched but nothing shows" can be
diagnosed. ``(device, device_punch_id)`` is unique: a punch sent again is a ``duplicate``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from config.settings import get_settings
from models import Device, Person, Project, ProjectMember, Punch, PunchSource, PunchStatus
from models.contracts import ContractStatus
from realname.singleflight import SingleFlight
from realname.storage import FileStore
from services import attendance, caches, localtime, pii, rules
from services.attendance.settlement import sqlite_in_transaction, sqlite_settle

log = logging.getLogger("realname.ingest")

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
NO_LIVENESS = "no_liveness"
UNKNOWN_PERSON = "unknown_person"
NOT_ON_PROJECT = rules.NOT_ON_PROJECT
CONTRACT_RED = rules.CONTRACT_RED
MISSING_WAGE_CARD = rules.MISSING_WAGE_CARD
TIME_IN_FUTURE = "time_in_future"
TIME_OUT_OF_RANGE = "time_out_of_range"
BAD_FIELD = "bad_field"
_COLUMNS = (
    "project_id",
    "member_id",
    "person_id",
    "device_id",
    "device_punch_id",
    "time",
    "local_date",
    "direction",
    "liveness",
    "photo_key",
    "lat",
    "lng",
    "source",
    "status",
    "reason",
    "received_at",
    "payload",
)


@dataclass
class PunchIn:
    """One punch normalised by an adapter; ``error`` set means ``bad_field``."""

    reply_id: Any  # echoed back in the result
    key: str  # device_punch_id (unique per device)
    time: dt.datetime | None = None
    direction: str = "in"
    person_id: int | None = None
    id_number: str | None = None
    pin: int | None = None  # a project member id (ADMS)
    liveness: bool = False
    photo: bytes | None = None
    lat: float | None = None
    lng: float | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # filled by the pipeline
    member: MemberRow | None = None
    resolved_person_id: int | None = None
    reason: str | None = None
    day: dt.date | None = None  # the project-local day


def plausible_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The earliest and latest punch time accepted at ``now``: ``PUNCH_LOOKBACK_DAYS`` back (late
    uploads of handsets offline for days) and ``DEVICE_CLOCK_WINDOW_SECONDS`` ahead (device
    clocks run a little fast). A member's punch must also be on or after their entry date."""
    settings = get_settings()
    return (
        now - dt.timedelta(days=settings.punch_lookback_days),
        now + dt.timedelta(seconds=settings.device_clock_window_seconds),
    )


def time_reason(
    moment: dt.datetime | None, earliest: dt.datetime, latest: dt.datetime
) -> str | None:
    """Why a punch time is implausible (None: plausible so far; the entry date is checked once
    the member is known).

    ``time_in_future``: ahead of the window. ``time_out_of_range``: older than the look-back, or
    not representable as a UTC moment (e.g. ``0001-01-01 00:00+08:00`` from a terminal whose clock
    was reset). Such a punch is stored for diagnosis under the day it was received, with its
    time as sent (or the receipt time when it has no UTC equivalent; the raw value stays in the
    payload), and never reaches the settlement.
    """
    if moment is None:
        return None
    if earliest <= moment <= latest:  # the common case; a moment near now is representable
        return None
    try:
        moment.astimezone(dt.UTC)
    except OverflowError:
        return TIME_OUT_OF_RANGE
    if moment > latest:
        return TIME_IN_FUTURE
    if moment < earliest:
        return TIME_OUT_OF_RANGE
    return None


class MemberRow:
    """The columns of a project member the pipeline and the rules need (no ORM instance: hot),
    with ``has_contract``: whether a contract is in force, read in the same query (rule 4 then
    needs no query of its own for members with one: ``rules.punch_block_reasons``)."""

    __slots__ = (
        "id",
        "person_id",
        "project_id",
        "work_status",
        "person_type",
        "work_type",
        "bank_name",
        "bank_card_enc",
        "bank_branch_code",
        "entry_date",
        "has_contract",
    )

    def __init__(self, row: Any, project_id: int) -> None:
        (
            self.id,
            self.person_id,
            self.work_status,
            self.person_type,
            self.work_type,
            self.bank_name,
            self.bank_card_enc,
            self.bank_branch_code,
            entry,
            has_contract,
        ) = row
        self.has_contract = bool(has_contract)
        self.project_id = project_id
        self.entry_date = dt.date.fromisoformat(entry) if isinstance(entry, str) else entry


_MEMBER_COLUMNS = (
    "id, person_id, work_status, person_type, work_type, bank_name, bank_card_enc,"
    " bank_branch_code, entry_date,"
    # A contract in force: uploaded, not terminated, not deleted (``members_with_contract``).
    " EXISTS (SELECT 1 FROM labour_contract c WHERE c.member_id = project_member.id"
    f" AND c.status = '{ContractStatus.ACTIVE.value}' AND c.deleted_at IS NULL)"
)


async def _members(project_id: int, person_ids: set[int], pins: set[int]) -> list[MemberRow]:
    """The project's members among these persons or PINs: one raw query (the hot path)."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        sql = (
            f"SELECT {_MEMBER_COLUMNS} FROM project_member WHERE project_id = $1"
            " AND (person_id = ANY($2::int[]) OR id = ANY($3::int[]))"
        )
        async with conn.acquire_connection() as c:
            rows = await c.fetch(sql, project_id, list(person_ids), list(pins))
        return [MemberRow(tuple(r), project_id) for r in rows]
    where = []
    params: list[Any] = [project_id]
    if person_ids:
        where.append(f"person_id IN ({','.join('?' * len(person_ids))})")
        params += list(person_ids)
    if pins:
        where.append(f"id IN ({','.join('?' * len(pins))})")
        params += list(pins)
    sql = (
        f"SELECT {_MEMBER_COLUMNS} FROM project_member WHERE project_id = ?"
        f" AND ({' OR '.join(where)})"
    )
    read = getattr(conn, "read", None)  # SQLite's reader connection, outside transactions
    if read is not None and not isinstance(conn, TransactionalDBClient):
        rows = await read(sql, params)
    else:
        _, rows = await conn.execute_query(sql, params)
    return [MemberRow(tuple(r), project_id) for r in rows]


# Member rows found are reused for a couple of seconds per process (the single-punch hot path
# then skips its member query). Only hits are cached: a person not found (e.g. a member added a
# moment ago) is always looked up again, so a new member punches at once. A change to an existing
# member (exit, wage card, work type) reaches the punch rules within MEMBER_CACHE_SECONDS; this
# process's own member writes clear the cache at once (``services.caches.forget_members``).
MEMBER_CACHE_SECONDS = 2.0
_member_cache: dict[tuple[int, int], tuple[MemberRow, float]] = caches.members


# Concurrent single punches of one project that miss the cache in the same loop iteration share
# one member query (one hop to the database instead of one per request): the persons of the
# callers that join a lookup are gathered until it starts. Only a lookup that has not started yet
# is joined, so every caller's query starts after its request arrived (a member added a moment
# before still punches at once).
_lookups: SingleFlight[tuple[asyncio.AbstractEventLoop, int], list[MemberRow]] = SingleFlight()
_gathered: dict[tuple[asyncio.AbstractEventLoop, int], set[int]] = {}


async def _members_together(project_id: int, person_ids: set[int]) -> list[MemberRow]:
    """``_members(project_id, person_ids)``, shared with the same tick's other callers."""
    if isinstance(connections.get("default"), TransactionalDBClient):
        return await _members(project_id, person_ids, set())  # inside a caller's transaction
    key = (asyncio.get_running_loop(), project_id)
    _gathered.setdefault(key, set()).update(person_ids)
    rows = await _lookups.run(key, lambda: _run_lookup(key))
    return [r for r in rows if r.person_id in person_ids]


async def _run_lookup(key: tuple[asyncio.AbstractEventLoop, int]) -> list[MemberRow]:
    _lookups.forget(key)  # started: later callers start the next lookup
    return await _members(key[1], _gathered.pop(key), set())


async def _cached_members(project_id: int, person_ids: set[int], pins: set[int]) -> list[MemberRow]:
    """``_members`` through the short-lived per-process cache of rows found (by person)."""
    if pins:  # ADMS PINs: not cached
        return await _members(project_id, person_ids, pins)
    now = time.monotonic()
    found: list[MemberRow] = []
    missing: set[int] = set()
    for person_id in person_ids:
        hit = _member_cache.get((project_id, person_id))
        if hit is not None and now - hit[1] < MEMBER_CACHE_SECONDS:
            found.append(hit[0])
        else:
            missing.add(person_id)
    if missing:
        rows = await _members_together(project_id, missing)
        if len(_member_cache) > 200_000:
            _member_cache.clear()
        for row in rows:
            _member_cache[(project_id, row.person_id)] = (row, now)
        found.extend(rows)
    return found


async def _resolve(project_id: int, punches: list[PunchIn]) -> None:
    """Attach each punch's project member (one query for the whole batch in the common case)."""
    person_ids = {p.person_id for p in punches if p.person_id is not None}
    pins = {p.pin for p in punches if p.pin is not None}
    numbers = {p.id_number for p in punches if p.id_number}
    bidx_to_person: dict[str, int] = {}
    if numbers:
        c = pii.cipher()
        by_bidx = {c.blind_index("id", n): n for n in numbers}
        rows = await Person.filter(id_number_bidx__in=list(by_bidx)).values_list(
            "id", "id_number_bidx"
        )
        bidx_to_person = {by_bidx[b]: pid for pid, b in rows}
        person_ids |= set(bidx_to_person.values())
    members: list[MemberRow] = []
    if person_ids or pins:
        members = await _cached_members(project_id, person_ids, pins)
    by_person = {m.person_id: m for m in members}
    by_pin = {m.id: m for m in members}
    for p in punches:
        if p.id_number:
            p.resolved_person_id = bidx_to_person.get(p.id_number)
        elif p.person_id is not None:
            p.resolved_person_id = p.person_id
        if p.pin is not None:
            p.member = by_pin.get(p.pin)
        elif p.resolved_person_id is not None:
            p.member = by_person.get(p.resolved_person_id)
        if p.member is not None:
            p.resolved_person_id = p.member.person_id
    # Misses: a known person (or a member of another project) is not_on_project, else unknown.
    missing_persons = {
        p.resolved_person_id
        for p in punches
        if p.member is None and p.resolved_person_id is not None
    }
    missing_pins = {p.pin for p in punches if p.member is None and p.pin is not None}
    known_persons = (
        set(await Person.filter(id__in=list(missing_persons)).values_list("id", flat=True))
        if missing_persons
        else set()
    )
    # A PIN of another project's member: the punch is tied to that person (not a membership).
    known_pins: dict[int, int] = (
        dict(await ProjectMember.filter(id__in=list(missing_pins)).values_list("id", "person_id"))
        if missing_pins
        else {}
    )
    for p in punches:
        if p.member is not None:
            continue
        if p.pin is not None:
            p.resolved_person_id = known_pins.get(p.pin)
            known = p.pin in known_pins
        else:
            known = p.resolved_person_id in known_persons
            if not known:
                p.resolved_person_id = None
        if p.reason is None:  # a punch already rejected for its time keeps that reason
            p.reason = NOT_ON_PROJECT if known else UNKNOWN_PERSON


async def ingest(
    device: Device,
    project: Project | None,
    punches: list[PunchIn],
    store: FileStore | None = None,
    source: str = PunchSource.DEVICE,
) -> list[dict[str, Any]]:
    """Store a batch of punches idempotently; return one result per punch, in order.

    Every result is produced only after the insert is committed.
    """
    project_id = device.bound_project_id
    tz = attendance.zone(project.timezone if project is not None else None)
    now = localtime.now()
    results: list[dict[str, Any] | None] = [None] * len(punches)
    seen: dict[str, int] = {}
    fresh: list[tuple[int, PunchIn]] = []
    for i, p in enumerate(punches):
        if p.key in seen:  # the same punch twice in one request
            results[i] = {"id": p.reply_id, "status": DUPLICATE}
            continue
        seen[p.key] = i
        fresh.append((i, p))

    good = [p for _, p in fresh if p.error is None]
    earliest, latest = plausible_window(now)
    for p in good:
        p.reason = time_reason(p.time, earliest, latest)
    # Every well-formed punch is tied to its member (or person) when known, rejected ones too:
    # the member's punch diagnosis shows them.
    await _resolve(project_id, good)
    by_day: dict[dt.date, list[PunchIn]] = defaultdict(list)
    received_day = attendance.local_day(now, tz)
    for _, p in fresh:
        if p.reason == TIME_OUT_OF_RANGE or p.time is None:
            p.day = received_day  # filed under the day it arrived (see ``time_reason``)
        else:
            try:
                p.day = attendance.local_day(p.time, tz)
            except OverflowError:  # a bad_field punch with an impossible time as well
                p.day = received_day
        member = p.member
        if p.reason is None and member is not None and p.day < member.entry_date:
            p.reason = TIME_OUT_OF_RANGE  # before the member entered the project
            p.day = received_day
        if p.error is None and p.reason is None and p.member is not None and p.time is not None:
            by_day[p.day].append(p)
    for day, items in by_day.items():
        # MemberRow carries the attributes the rules read (id, person_type, the rule 5 fields,
        # work_status, entry_date) without building ORM instances.
        blocked = await rules.punch_block_reasons(
            {p.member.id: p.member for p in items if p.member}.values(),  # type: ignore[arg-type]
            day,
        )
        for p in items:
            p.reason = blocked.get(p.member.id) if p.member else None
    for p in good:
        if p.reason is None and not p.liveness:
            p.reason = NO_LIVENESS

    photo_keys = await _store_photos(device, fresh, store)
    source_value = str(getattr(source, "value", source))  # per-batch constants, not per punch
    device_id: int = device.id
    rows = [
        _row(
            device_id,
            project_id,
            p,
            now,
            photo_keys.get(p.key) if photo_keys else None,
            source_value,
        )
        for _, p in fresh
    ]
    inserted = await insert_punches(rows, {project_id: received_day})

    for i, p in fresh:
        if p.key not in inserted:
            results[i] = {"id": p.reply_id, "status": DUPLICATE}
        elif p.error is not None:
            results[i] = {
                "id": p.reply_id,
                "status": REJECTED,
                "reason": BAD_FIELD,
                "field": p.error,
            }
        elif p.reason is not None:
            results[i] = {"id": p.reply_id, "status": REJECTED, "reason": p.reason}
        else:
            results[i] = {"id": p.reply_id, "status": ACCEPTED}
    # The touched days were settled in the insert's transaction (SQLite, grouped inserts and
    # batches) or marked pending there; the insert kicks the drain for marked days
    # (``_insert_now``).
    return [r for r in results if r is not None]


PHOTO_PUTS = 8  # a batch's photos stored at once (the S3 client's pool holds 16 connections)


async def _store_photos(
    device: Device, fresh: list[tuple[int, PunchIn]], store: FileStore | None
) -> dict[str, str]:
    """Save the photos of punches not stored yet (skipping retried duplicates)."""
    with_photo = [p for _, p in fresh if p.photo and p.error is None]
    if not with_photo or store is None:
        return {}
    existing = set(
        await Punch.filter(
            device_id=device.id, device_punch_id__in=[p.key for p in with_photo]
        ).values_list("device_punch_id", flat=True)
    )
    todo = [p for p in with_photo if p.key not in existing and p.photo is not None]
    keys: dict[str, str] = {}
    # A few at a time: against an S3 store each put is a network round trip, and an offline
    # handset's backlog of 500 photos one by one outlasts the terminal's request timeout.
    gate = asyncio.Semaphore(PHOTO_PUTS)

    async def put(p: PunchIn) -> None:
        photo = p.photo
        assert photo is not None
        png = photo.startswith(b"\x89PNG")
        async with gate:
            keys[p.key] = await store.put(
                photo,
                prefix="punches",
                suffix=".png" if png else ".jpg",
                content_type="image/png" if png else "image/jpeg",
            )

    # all stored, or the batch fails (the terminal retries it; nothing is acknowledged)
    await asyncio.gather(*(put(p) for p in todo))
    return keys


_STATUS_ACCEPTED, _STATUS_REJECTED = PunchStatus.ACCEPTED.value, PunchStatus.REJECTED.value
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
_KEY, _STATUS, _MEMBER, _DAY, _DEVICE = (
    _COLUMNS.index(c) for c in ("device_punch_id", "status", "member_id", "local_date", "device_id")
)
_RECEIVED = _COLUMNS.index("received_at")


_encode = _JSON.encode


def _storable(moment: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """The ``time`` column: the punch's time, or the receipt time when it has none or it has no
    UTC equivalent (the value sent stays in the payload)."""
    if moment is None:
        return now
    try:
        moment.astimezone(dt.UTC)
    except OverflowError:
        return now
    return moment


def _row(
    device_id: int,
    project_id: int,
    p: PunchIn,
    now: dt.datetime,
    photo_key: str | None,
    source: str,
) -> list[Any]:
    """The punch's column values in ``_COLUMNS`` order, as the driver takes them (``source`` is
    the source's string value, computed once per batch)."""
    moment = p.time
    if p.error is not None:
        status, reason = _STATUS_REJECTED, BAD_FIELD
        payload = {**p.payload, "_bad_field": p.error}
        moment = _storable(moment, now)
    elif p.reason is not None:
        status, reason, payload = _STATUS_REJECTED, p.reason, p.payload
        moment = _storable(moment, now)
    else:  # its time passed ``time_reason``: representable as it is
        status, reason, payload = _STATUS_ACCEPTED, None, p.payload
        if moment is None:
            moment = now
    member = p.member
    return [
        project_id,
        member.id if member is not None else None,
        p.resolved_person_id,
        device_id,
        p.key,
        moment,
        p.day,
        p.direction if p.direction in ("in", "out") else "in",
        p.liveness,
        photo_key,
        p.lat,
        p.lng,
        source,
        status,
        reason,
        now,
        _encode(payload) if payload is not None else None,
    ]


_PG_TYPES = {
    "project_id": "int",
    "member_id": "int",
    "person_id": "int",
    "device_id": "int",
    "device_punch_id": "text",
    "time": "timestamptz",
    "local_date": "date",
    "direction": "text",
    "liveness": "bool",
    "photo_key": "text",
    "lat": "float8",
    "lng": "float8",
    "source": "text",
    "status": "text",
    "reason": "text",
    "received_at": "timestamptz",
    "payload": "jsonb",
}
# PostgreSQL: one statement (so one atomic autocommit) inserts the punches from column arrays
# and marks the member-days of the accepted new ones pending settlement. A fixed text, so
# asyncpg prepares it once per connection.
_PG_INSERT_TAIL = (
    " ON CONFLICT (device_id, device_punch_id) DO NOTHING"
    " RETURNING device_id, device_punch_id, project_id, member_id, local_date, status),"
    " mark AS (INSERT INTO settle_pending (project_id, member_id, day, attempts)"
    " SELECT DISTINCT project_id, member_id, local_date, 0 FROM ins"
    " WHERE status = 'accepted' AND member_id IS NOT NULL AND local_date IS NOT NULL)"
    " SELECT device_id, device_punch_id FROM ins"
)
_PG_INSERT = (
    "WITH ins AS (INSERT INTO punch ("
    + ",".join(_COLUMNS)
    + ") SELECT * FROM unnest("
    + ",".join(f"${i + 1}::{_PG_TYPES[c]}[]" for i, c in enumerate(_COLUMNS))
    + ")"
    + _PG_INSERT_TAIL
)
# The same for a batch upload's rows, which share the columns one upload has in common (project,
# device, source, receipt time): those are sent once, as scalars, the others as arrays — fewer
# array elements to encode (asyncpg checks each one) and to send.
_PG_SHARED = tuple(_COLUMNS.index(c) for c in ("project_id", "device_id", "source", "received_at"))
_PG_OWN = tuple(i for i in range(len(_COLUMNS)) if i not in _PG_SHARED)
_PG_INSERT_SHARED = (
    "WITH ins AS (INSERT INTO punch ("
    + ",".join(_COLUMNS)
    + ") SELECT "
    + ",".join(
        f"${len(_PG_OWN) + _PG_SHARED.index(i) + 1}::{_PG_TYPES[c]}"
        if i in _PG_SHARED
        else f"u.{c}"
        for i, c in enumerate(_COLUMNS)
    )
    + " FROM unnest("
    + ",".join(f"${k + 1}::{_PG_TYPES[_COLUMNS[i]]}[]" for k, i in enumerate(_PG_OWN))
    + f") AS u({','.join(_COLUMNS[i] for i in _PG_OWN)})"
    + _PG_INSERT_TAIL
)
# The marks are plain appended rows (no unique key, no update): concurrent uploads never wait on
# each other's marks, and the settlement deletes only the rows it claimed (see
# ``services.attendance.settle_pending``). That is what keeps concurrent uploads free of
# deadlocks between the marks and the settlement.
_SQLITE_MARK = "INSERT INTO settle_pending (project_id, member_id, day, attempts) VALUES (?,?,?,0)"


def _sqlite_insert(
    sqlconn: Any,
    sql: str,
    values: list[Any],
    marks: dict[tuple[int, str], tuple[int, int, str]],
    todays: dict[int, dt.date] | None,
    now: dt.datetime,
) -> tuple[list[tuple[int, str]], bool]:
    """Run in the aiosqlite thread (inside ``sqlite_in_transaction``): insert the punches and
    settle their member-days in the same transaction when the projects' ``todays`` are given
    (one commit for both); the days not settled there are marked pending. The (device, key)
    pairs inserted, and whether any day was marked."""
    keys = [(r[0], r[1]) for r in sqlconn.execute(sql, values).fetchall()]
    pending = {marks[k] for k in keys if k in marks}
    if pending and todays is not None:
        pending = _settle_inline(sqlconn, pending, todays, now)
    if pending:
        sqlconn.executemany(_SQLITE_MARK, list(pending))
    return keys, bool(pending)


def _settle_inline(
    sqlconn: Any,
    days: set[tuple[int, int, str]],
    todays: dict[int, dt.date],
    now: dt.datetime,
) -> set[tuple[int, int, str]]:
    """Settle (project, member, day) in the insert's transaction (SQLite: the transaction holds
    the database's write lock, so it reads every committed punch of the day and no other writer
    can interleave). The days it did not settle, to be marked pending: a day that fails (set
    aside by the pending pass, which logs it), every day when the pass itself raises, and a
    project without a given today."""
    items = sorted(
        (project_id, member_id, dt.date.fromisoformat(day), todays[project_id])
        for project_id, member_id, day in days
        if project_id in todays
    )
    left = {d for d in days if d[0] not in todays}
    sqlconn.execute("SAVEPOINT settle_inline")
    try:
        _, failed = sqlite_settle(sqlconn, items, now)
    except Exception:  # noqa: BLE001 - nothing of the pass is kept; the marks settle it later
        sqlconn.execute("ROLLBACK TO settle_inline")
        failed = {(it[1], it[2]): "" for it in items}
    sqlconn.execute("RELEASE settle_inline")
    return left | {d for d in days if (d[1], dt.date.fromisoformat(d[2])) in failed}


_CHUNK_ROWS = 500


async def _insert_now(
    rows: list[list[Any]], todays: dict[int, dt.date] | None = None
) -> set[tuple[int, str]]:
    """The insert itself, 500 rows per statement/transaction; the (device, key) pairs inserted.

    With ``todays`` (project id → the project-local today) SQLite settles the touched days in
    the insert's transaction; otherwise (and on PostgreSQL) they are marked pending and the
    drain is kicked to settle them right after the reply (a crash before that is recovered by
    the pending-settlement sweep)."""
    conn = connections.get("default")
    inserted: set[tuple[int, str]] = set()
    marked = False
    # One fixed order of the unique (device, punch id) keys for every statement, so two
    # concurrent inserts of overlapping keys (a retry racing its original) wait, never deadlock.
    rows = sorted(rows, key=lambda r: (r[_DEVICE], r[_KEY]))
    for start in range(0, len(rows), _CHUNK_ROWS):
        part = rows[start : start + _CHUNK_ROWS]
        if conn.capabilities.dialect == "postgres":
            columns = list(zip(*part, strict=True))
            first = part[0]
            batch = len(part) > GROUP_MAX_ROWS
            if batch and all(r[i] == first[i] for i in _PG_SHARED for r in part):
                sql = _PG_INSERT_SHARED
                args = [list(columns[i]) for i in _PG_OWN] + [first[i] for i in _PG_SHARED]
            else:  # a group of several uploads
                sql, args = _PG_INSERT, [list(col) for col in columns]
            async with conn.acquire_connection() as c:
                result = await c.fetch(sql, *args)
            new = {(r[0], r[1]) for r in result}
            inserted |= new
            marked = marked or any(
                (r[_DEVICE], r[_KEY]) in new
                and r[_STATUS] == _STATUS_ACCEPTED
                and r[_MEMBER] is not None
                and r[_DAY] is not None
                for r in part
            )
            continue
        marks = {
            (r[_DEVICE], r[_KEY]): (r[0], r[_MEMBER], r[_DAY].isoformat())
            for r in part
            if r[_STATUS] == _STATUS_ACCEPTED and r[_MEMBER] is not None and r[_DAY] is not None
        }
        one = "(" + ",".join("?" * len(_COLUMNS)) + ")"
        sql = (
            f"INSERT INTO punch ({','.join(_COLUMNS)}) VALUES {','.join([one] * len(part))} "
            "ON CONFLICT (device_id, device_punch_id) DO NOTHING"
            " RETURNING device_id, device_punch_id"
        )
        flat = [v for row in part for v in row]
        # The receipt time, shared by an upload's rows, as SQLite holds it: formatted once per
        # upload instead of once per row.
        stamps: dict[int, str] = {}
        for k in range(_RECEIVED, len(flat), len(_COLUMNS)):
            value = flat[k]
            if type(value) is dt.datetime:
                text = stamps.get(id(value))
                if text is None:
                    text = stamps[id(value)] = localtime.sqlite_text(value)
                flat[k] = text
        now = localtime.now()
        async with conn.acquire_connection() as aconn:
            # One hop to the connection's thread for the whole transaction (aiosqlite runs the
            # function there, serialised with every other statement of this connection).
            keys, marked_here = await aconn._execute(
                sqlite_in_transaction,
                aconn._conn,
                _sqlite_insert,
                sql,
                flat,
                marks,
                todays,
                now,
            )
        inserted.update(keys)
        marked = marked or marked_here
    if marked:
        attendance.kick_pending(batch=len(rows) > GROUP_MAX_ROWS)
    return inserted


# Group commit: small inserts (single punches) arriving together share one statement and one
# transaction. Each caller still gets its answer only after that transaction has committed; a
# (device, punch id) already waiting in the group goes to the next group, so a concurrent retry
# is answered "duplicate" exactly as with separate transactions. If the shared insert fails,
# every caller's rows are retried on their own, so one bad request fails alone.
GROUP_MAX_ROWS = 20  # larger requests are inserted directly (they are their own group)


@dataclass
class _Group:
    # (rows, the caller's project-local todays or None, the caller's future)
    queue: list[tuple[list[list[Any]], dict[int, dt.date] | None, asyncio.Future]] = field(
        default_factory=list
    )
    task: asyncio.Task | None = None


_groups: dict[asyncio.AbstractEventLoop, _Group] = {}


def _group_of(loop: asyncio.AbstractEventLoop) -> _Group:
    group = _groups.get(loop)
    if group is None:
        for old in [lp for lp in _groups if lp.is_closed()]:
            del _groups[old]
        group = _groups[loop] = _Group()
    return group


async def _flush(group: _Group) -> None:
    try:
        await _flush_groups(group)
    except BaseException as exc:  # cancelled (shutdown): no caller may wait forever
        for _, _, fut in group.queue:
            if not fut.done():
                fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
        group.queue = []
        raise


def _merged_todays(
    entries: list[tuple[list[list[Any]], dict[int, dt.date] | None, asyncio.Future]],
) -> dict[int, dt.date] | None:
    """The todays of a group's callers (None when one has none: its days are then marked)."""
    merged: dict[int, dt.date] = {}
    for _, todays, _ in entries:
        if todays is None:
            return None
        for project_id, today in todays.items():
            merged[project_id] = max(today, merged.get(project_id, today))
    return merged


async def _flush_groups(group: _Group) -> None:
    while group.queue:
        taken: list[tuple[list[list[Any]], dict[int, dt.date] | None, asyncio.Future]] = []
        rest: list[tuple[list[list[Any]], dict[int, dt.date] | None, asyncio.Future]] = []
        keys: set[tuple[int, str]] = set()
        n = 0
        for entry in group.queue:
            rows = entry[0]
            own = {(r[_DEVICE], r[_KEY]) for r in rows}
            if n + len(rows) > _CHUNK_ROWS or own & keys:
                rest.append(entry)
                continue
            taken.append(entry)
            keys |= own
            n += len(rows)
        group.queue = rest + taken  # still visible to the shutdown path until answered
        try:
            done = await _insert_now(
                [r for rows, _, _ in taken for r in rows], _merged_todays(taken)
            )
        except Exception:  # noqa: BLE001 - retry each caller alone so only the bad one fails
            for rows, todays, fut in taken:
                try:
                    mine = await _insert_now(rows, todays)
                except Exception as exc:  # noqa: BLE001 - handed to that caller
                    if not fut.done():
                        fut.set_exception(exc)
                else:
                    if not fut.done():
                        fut.set_result({k for d, k in mine})
            group.queue = [item for item in group.queue if not item[2].done()]
            continue
        for rows, _, fut in taken:
            if not fut.done():
                fut.set_result({r[_KEY] for r in rows if (r[_DEVICE], r[_KEY]) in done})
        group.queue = [item for item in group.queue if not item[2].done()]


async def insert_punches(
    rows: list[list[Any]], todays: dict[int, dt.date] | None = None
) -> set[str]:
    """Idempotent bulk insert of one device's punches; the keys actually inserted (conflicts on
    (device, punch id) are skipped, so concurrent retries of the same punch store it once).

    In the same transaction, every accepted new punch's (member, day) is settled (SQLite, given
    the projects' ``todays``: project id → the project-local today; not inside a caller's
    transaction) or marked pending settlement (``settle_pending``). When this returns, both are
    committed.
    """
    if not rows:
        return set()
    conn = connections.get("default")
    if isinstance(conn, TransactionalDBClient):
        # Inside a caller's transaction the insert must join it: never grouped, its days marked.
        return {k for _, k in await _insert_now(rows)}
    if len(rows) > GROUP_MAX_ROWS:  # a batch upload is its own group (settled like one)
        return {k for _, k in await _insert_now(rows, todays)}
    loop = asyncio.get_running_loop()
    group = _group_of(loop)
    fut: asyncio.Future = loop.create_future()
    group.queue.append((rows, todays, fut))
    if group.task is None or group.task.done():
        group.task = loop.create_task(_flush(group))
    return await asyncio.shield(fut)

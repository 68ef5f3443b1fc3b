"""The one normalised punch pipeline, used by every device adapter (native protocol, ADMS).

parse → validate → resolve persons (one query for the batch) → rules (liveness, on this project,
``services.rules``) → one idempotent bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (committed
before any result is produced) → per-punch results in request order → the touched days re-settled.

Rejected punches are stored too, with their reason, so "I punched but nothing shows" can be
diagnosed. ``(device, device_punch_id)`` is unique: a punch sent again is a ``duplicate``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.expressions import Q

from models import Device, Person, Project, ProjectMember, Punch, PunchSource, PunchStatus
from realname.storage import FileStore
from services import attendance, pii, rules
from services.files import decode_base64, sniff

log = logging.getLogger("realname.ingest")

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
NO_LIVENESS = "no_liveness"
UNKNOWN_PERSON = "unknown_person"
NOT_ON_PROJECT = rules.NOT_ON_PROJECT
CONTRACT_RED = rules.CONTRACT_RED
MISSING_WAGE_CARD = rules.MISSING_WAGE_CARD
TIME_IN_FUTURE = "time_in_future"
BAD_FIELD = "bad_field"
REASONS = (
    NO_LIVENESS,
    UNKNOWN_PERSON,
    NOT_ON_PROJECT,
    CONTRACT_RED,
    MISSING_WAGE_CARD,
    TIME_IN_FUTURE,
    BAD_FIELD,
)

MAX_ID_LEN = 64
FUTURE_SKEW = dt.timedelta(seconds=300)  # device clocks may run a little fast
MAX_PHOTO_BYTES = 2 * 1024 * 1024

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
    member: ProjectMember | None = None
    resolved_person_id: int | None = None
    reason: str | None = None


def _bad(reply_id: Any, key: str, message: str, payload: dict[str, Any]) -> PunchIn:
    return PunchIn(reply_id=reply_id, key=key, payload=payload, error=message)


def _payload_key(raw: Any) -> str:
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    return f"bad:{digest[:40]}"


def parse_time(value: Any) -> dt.datetime | None:
    """An aware datetime from an ISO-8601 string with an offset, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse_native(raw: Any) -> PunchIn:
    """Normalise one native-protocol punch object (errors become ``bad_field`` punches)."""
    if not isinstance(raw, dict):
        return _bad(None, _payload_key(raw), "punch 应为对象", {"raw": raw})
    payload = {k: v for k, v in raw.items() if k != "photo"}
    if "photo" in raw:
        payload["photo"] = "<omitted>"
    pid = raw.get("id")
    if (
        not isinstance(pid, str | int)
        or isinstance(pid, bool)
        or not str(pid).strip()
        or len(str(pid)) > MAX_ID_LEN
    ):
        return _bad(pid, _payload_key(payload), "id", payload)
    key = str(pid)
    p = PunchIn(reply_id=pid, key=key, payload=payload)
    person_id, id_number = raw.get("person_id"), raw.get("id_number")
    if person_id is not None and id_number is None:
        try:
            p.person_id = int(person_id)
        except (TypeError, ValueError):
            p.error = "person_id"
    elif id_number is not None and person_id is None and isinstance(id_number, str):
        p.id_number = id_number.strip().upper()
    else:
        p.error = "person_id"
    p.time = parse_time(raw.get("time"))
    if p.time is None and not p.error:
        p.error = "time"
    direction = raw.get("direction")
    if direction in ("in", "out"):
        p.direction = direction
    elif not p.error:
        p.error = "direction"
    liveness = raw.get("liveness")
    if isinstance(liveness, bool):
        p.liveness = liveness
    elif not p.error:
        p.error = "liveness"
    for name in ("lat", "lng"):
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and -180 <= value <= 180:
            setattr(p, name, float(value))
        elif not p.error:
            p.error = name
    if raw.get("photo") is not None and not p.error:
        try:
            data = decode_base64(raw["photo"], "photo")
        except Exception:  # noqa: BLE001 - any decoding problem is a bad field
            p.error = "photo"
        else:
            found = sniff(data)
            if (
                not data
                or len(data) > MAX_PHOTO_BYTES
                or found is None
                or found[0] not in ("jpeg", "png")
            ):
                p.error = "photo"
            else:
                p.photo = data
    return p


def _dialect() -> str:
    return connections.get("default").capabilities.dialect


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
    members: list[ProjectMember] = []
    if person_ids or pins:
        members = await ProjectMember.filter(project_id=project_id).filter(
            Q(person_id__in=list(person_ids) or [-1]) | Q(id__in=list(pins) or [-1])
        )
    by_person = {m.person_id: m for m in members}  # type: ignore[attr-defined]
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
            p.resolved_person_id = p.member.person_id  # type: ignore[attr-defined]
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
    known_pins = (
        set(await ProjectMember.filter(id__in=list(missing_pins)).values_list("id", flat=True))
        if missing_pins
        else set()
    )
    for p in punches:
        if p.member is not None:
            continue
        known = (
            (p.pin in known_pins) if p.pin is not None else (p.resolved_person_id in known_persons)
        )
        if p.pin is None and p.resolved_person_id not in known_persons:
            p.resolved_person_id = None
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
    project_id: int = device.project_id  # type: ignore[attr-defined]
    tz = ZoneInfo(project.timezone if project is not None else "Asia/Shanghai")
    now = dt.datetime.now(dt.UTC)
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
    for p in good:
        if p.time is not None and p.time > now + FUTURE_SKEW:
            p.reason = TIME_IN_FUTURE
    await _resolve(project_id, [p for p in good if p.reason is None])
    by_day: dict[dt.date, list[PunchIn]] = defaultdict(list)
    for p in good:
        if p.reason is None and p.member is not None and p.time is not None:
            by_day[attendance.local_day(p.time, tz)].append(p)
    for day, items in by_day.items():
        blocked = await rules.punch_block_reasons(
            {p.member.id: p.member for p in items if p.member}.values(), day
        )
        for p in items:
            p.reason = blocked.get(p.member.id) if p.member else None
    for p in good:
        if p.reason is None and not p.liveness:
            p.reason = NO_LIVENESS

    photo_keys = await _store_photos(device, fresh, store)
    rows = [_row(device, project_id, p, tz, now, photo_keys.get(p.key), source) for _, p in fresh]
    inserted = await insert_punches(rows)

    settle: set[tuple[int, dt.date]] = set()
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
            assert p.member is not None and p.time is not None
            settle.add((p.member.id, attendance.local_day(p.time, tz)))
    if settle:
        try:
            await attendance.settle_days(project_id, settle)
        except Exception:  # noqa: BLE001 - stored punches stay stored; the day is re-settled later
            log.exception("settling %d day(s) failed for project %s", len(settle), project_id)
    return [r for r in results if r is not None]


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
    keys: dict[str, str] = {}
    for p in with_photo:
        if p.key in existing or p.photo is None:
            continue
        ext = ".png" if p.photo.startswith(b"\x89PNG") else ".jpg"
        keys[p.key] = await store.put(
            p.photo,
            prefix="punches",
            suffix=ext,
            content_type="image/png" if ext == ".png" else "image/jpeg",
        )
    return keys


def _row(
    device: Device,
    project_id: int,
    p: PunchIn,
    tz: ZoneInfo,
    now: dt.datetime,
    photo_key: str | None,
    source: str,
) -> dict[str, Any]:
    moment = p.time or now
    if p.error is not None:
        status, reason = PunchStatus.REJECTED, BAD_FIELD
    elif p.reason is not None:
        status, reason = PunchStatus.REJECTED, p.reason
    else:
        status, reason = PunchStatus.ACCEPTED, None
    payload = dict(p.payload)
    if p.error:
        payload["_bad_field"] = p.error
    return {
        "project_id": project_id,
        "member_id": p.member.id if p.member else None,
        "person_id": p.resolved_person_id,
        "device_id": device.id,
        "device_punch_id": p.key,
        "time": moment,
        "local_date": attendance.local_day(moment, tz),
        "direction": p.direction if p.direction in ("in", "out") else "in",
        "liveness": p.liveness,
        "photo_key": photo_key,
        "lat": p.lat,
        "lng": p.lng,
        "source": source,
        "status": status,
        "reason": reason,
        "received_at": now,
        "payload": payload,
    }


async def insert_punches(rows: list[dict[str, Any]]) -> set[str]:
    """Bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING``; the keys actually inserted.

    Autocommit: when this returns, the new rows are committed. Conflicts on (device, punch id)
    are skipped, so concurrent retries of the same punch store it once.
    """
    if not rows:
        return set()
    conn = connections.get("default")
    postgres = _dialect() == "postgres"
    fmap = Punch._meta.fields_map
    field_of = {
        c: (c[:-3] if c.endswith("_id") and c[:-3] in fmap and c not in ("device_punch_id",) else c)
        for c in _COLUMNS
    }
    inserted: set[str] = set()
    chunk = 500
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        values: list[Any] = []
        groups = []
        for row in part:
            marks = []
            for col in _COLUMNS:
                value = row[col]
                name = field_of[col]
                if name in (
                    "time",
                    "received_at",
                    "local_date",
                    "payload",
                    "direction",
                    "source",
                    "status",
                ):
                    value = fmap[name].to_db_value(value, Punch)
                values.append(value)
                marks.append(f"${len(values)}" if postgres else "?")
            groups.append("(" + ",".join(marks) + ")")
        sql = (
            f"INSERT INTO punch ({','.join(_COLUMNS)}) VALUES {','.join(groups)} "
            "ON CONFLICT (device_id, device_punch_id) DO NOTHING RETURNING device_punch_id"
        )
        _, result = await conn.execute_query(sql, values)
        inserted.update(r["device_punch_id"] if not isinstance(r, tuple) else r[0] for r in result)
    return inserted

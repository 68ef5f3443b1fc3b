"""Parsing ZKTeco ADMS ("PUSH") bodies into the normalised punch pipeline's input.

Two firmware dialects: attendance PUSH (``table=ATTLOG`` rows ``PIN<TAB>time<TAB>state<TAB>verify``)
and access-control PUSH (``DeviceType=acc``: ``table=rtlog`` rows of ``key=value`` pairs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services import localtime
from services.ingest import PunchIn

IN_STATUSES = {"0", "3", "4"}  # check-in, break-in, overtime-in
OUT_STATUSES = {"1", "2", "5"}  # check-out, break-out, overtime-out
AUTO_STATUS = "255"  # terminals without state keys: no direction on the row

# Verify modes (考勤PUSH "VerifyMode"/"verifytype") that prove a live face or palm: face alone or
# with another factor (15–20), palm (25–28). Password (3), card (4), fingerprint (1) and the
# "any method" modes do not: on an anti-spoof terminal they are kept as ``no_liveness`` (rule 3).
LIVE_VERIFY_MODES = frozenset({15, 16, 17, 18, 19, 20, 25, 26, 27, 28})

# Access-control events that are a person verified at the reader (normal open, open during a
# normal-open period, first-person and multi-person open). Other events (door alarms, refused
# verifications, door state) are not punches: acknowledged and not stored.
ACC_VERIFIED_EVENTS = frozenset({0, 1, 2, 3})

MAX_PIN = 2**31 - 1  # a PIN is a project member id
DIRECTION_MODES = ("state", "fixed_in", "fixed_out", "auto")


def lines(body: bytes) -> list[str]:
    """Non-empty lines of a body, LF or CRLF."""
    text = body.decode("utf-8", errors="replace")
    return [ln.rstrip("\r") for ln in text.split("\n") if ln.strip()]


def normalise_pin(value: str) -> int | None:
    """The member id a terminal PIN stands for (``0007`` and ``7`` are the same), or None."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 32:
        return None
    pin = int(value)
    return pin if 0 < pin <= MAX_PIN else None


def direction_for(state: str, mode: str) -> str | None:
    """``in``/``out`` for a row's state under the device's direction mode; ``auto`` when the
    direction must come from the member's other punches of the day; None = invalid state."""
    if mode == "fixed_in":
        return "in"
    if mode == "fixed_out":
        return "out"
    if mode == "auto" or state == AUTO_STATUS:
        return "auto"
    if state in IN_STATUSES:
        return "in"
    if state in OUT_STATUSES:
        return "out"
    return None


def verify_mode(value: str) -> int | None:
    """The verify mode of a row, or None when absent or not a number."""
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 4 else None


def is_live(antispoof: bool, verify: int | None) -> bool:
    """Live only on an anti-spoof terminal and only for a face or palm verification."""
    return antispoof and verify is not None and verify in LIVE_VERIFY_MODES


def _bad(row: str, payload: dict[str, object], error: str) -> PunchIn:
    key = "adms:bad:" + hashlib.sha256(row.encode()).hexdigest()[:40]
    return PunchIn(reply_id=None, key=key, payload=payload, error=error)


def punch_key(pin: int, local: dt.datetime) -> str:
    """The duplicate key of an ADMS punch: (PIN normalised, terminal wall-clock second)."""
    return f"adms:{pin}:{local:%Y%m%d%H%M%S}"


def _punch(
    pin: int,
    local: dt.datetime,
    tz: ZoneInfo,
    direction: str,
    liveness: bool,
    payload: dict[str, object],
) -> PunchIn:
    """The punch of a parsed row (ATTLOG or rtlog), keyed by (PIN, time). A direction still to
    be decided from the day's punches (``auto``) goes in as ``in``, marked in the payload."""
    if direction == "auto":
        payload["direction"] = "auto"
    return PunchIn(
        reply_id=None,
        key=punch_key(pin, local),
        time=local.replace(tzinfo=tz),
        direction="in" if direction == "auto" else direction,
        pin=pin,
        liveness=liveness,
        payload=payload,
    )


def parse_attlog_row(row: str, tz: ZoneInfo, antispoof: bool, mode: str = "state") -> PunchIn:
    """One ``PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>state<TAB>verify...`` row (errors → bad_field).

    The key is (PIN, time): a terminal re-sending a row is a duplicate, never a second punch.
    A direction still to be decided from the day's punches is marked ``payload["direction"] =
    "auto"`` (the adapter settles it before the pipeline).
    """
    cols = row.split("\t")
    payload: dict[str, object] = {"row": row[:500], "protocol": "adms"}
    if "=" in cols[0]:  # firmware writing the same record as key=value pairs
        kv = parse_kv_row(row)
        cols = [
            kv.get("pin", ""),
            kv.get("time", ""),
            kv.get("status", ""),
            kv.get("verify", kv.get("verifymode", kv.get("verifytype", ""))),
        ]
    if len(cols) < 3:
        return _bad(row, payload, "row")
    pin = normalise_pin(cols[0])
    if pin is None:
        return _bad(row, payload, "PIN")
    try:
        local = dt.datetime.strptime(cols[1].strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return _bad(row, payload, "time")
    state = cols[2].strip()
    direction = direction_for(state, mode)
    if direction is None:
        return _bad(row, payload, "status")
    verify = verify_mode(cols[3]) if len(cols) > 3 else None
    payload.update({"state": state, "verify": verify, "direction_mode": mode})
    return _punch(pin, local, tz, direction, is_live(antispoof, verify), payload)


def parse_kv_row(row: str) -> dict[str, str]:
    """``key=value`` pairs separated by tabs (access-control rows), keys lower-cased."""
    found: dict[str, str] = {}
    for part in row.split("\t"):
        key, sep, value = part.partition("=")
        if sep:
            found[key.strip().lower()] = value.strip()
    return found


def parse_rtlog_row(row: str, tz: ZoneInfo, antispoof: bool, mode: str = "state") -> PunchIn | None:
    """One access-control ``rtlog`` event; None when it is not a person verified at a reader
    (alarms, refused verifications, events without a person)."""
    fields = parse_kv_row(row)
    payload: dict[str, object] = {"row": row[:500], "protocol": "adms", "table": "rtlog"}
    event = fields.get("event", "")
    if not event.isdigit() or int(event) not in ACC_VERIFIED_EVENTS:
        return None
    raw_pin = fields.get("pin", "")
    if raw_pin.strip() in ("", "0"):
        return None  # a card or door event without a person
    pin = normalise_pin(raw_pin)
    if pin is None:
        return _bad(row, payload, "pin")
    try:
        local = dt.datetime.strptime(fields.get("time", ""), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return _bad(row, payload, "time")
    inout = fields.get("inoutstatus", "")
    state = {"0": "0", "1": "1"}.get(inout, AUTO_STATUS)
    direction = direction_for(state, mode) or "auto"
    verify = verify_mode(fields.get("verifytype", ""))
    payload.update(
        {"event": int(event), "inoutstatus": inout, "verify": verify, "direction_mode": mode}
    )
    return _punch(pin, local, tz, direction, is_live(antispoof, verify), payload)


def from_zk_time(value: int) -> dt.datetime | None:
    """A wall-clock time from the ZKTeco encoding (``time_second`` of access transactions)."""
    if value < 0:
        return None
    second, value = value % 60, value // 60
    minute, value = value % 60, value // 60
    hour, value = value % 24, value // 24
    day, value = value % 31 + 1, value // 31
    month, year = value % 12 + 1, value // 12 + 2000
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def parse_transaction_row(
    row: str, tz: ZoneInfo, antispoof: bool, mode: str = "state"
) -> PunchIn | None:
    """One access-control ``transaction`` record (events a terminal stored while offline,
    uploaded as ``table=tabledata&tablename=transaction``): read like an ``rtlog`` event."""
    text = row.strip()
    if text.lower().startswith("transaction"):
        text = text[len("transaction") :].strip()
    fields = parse_kv_row(text)
    moment = None
    stamp = fields.get("time_second", "")
    if stamp.isdigit():
        moment = from_zk_time(int(stamp))
    rebuilt = {
        "time": f"{moment:%Y-%m-%d %H:%M:%S}" if moment else fields.get("time", ""),
        "pin": fields.get("pin", ""),
        "event": fields.get("eventtype", fields.get("event", "")),
        "inoutstatus": fields.get("inoutstate", fields.get("inoutstatus", "")),
        "verifytype": fields.get("verified", fields.get("verifytype", "")),
    }
    punch = parse_rtlog_row("\t".join(f"{k}={v}" for k, v in rebuilt.items()), tz, antispoof, mode)
    if punch is not None:
        punch.payload["row"] = row[:500]
        punch.payload["table"] = "transaction"
    return punch


def parse_options(body: bytes) -> dict[str, str]:
    """``key=value`` metadata, one per line or comma separated (``~`` prefixes dropped)."""
    found: dict[str, str] = {}
    for line in lines(body):
        for part in line.split(","):
            key, sep, value = part.partition("=")
            if sep:
                found[key.strip().lstrip("~")] = value.strip()
    return found


@dataclass
class CommandReturn:
    """One ``ID=..&Return=..&CMD=..`` result; ``code`` None when the terminal sent no Return."""

    id: str
    code: int | None
    cmd: str


def parse_devicecmd(body: bytes) -> list[CommandReturn]:
    """The results in a ``devicecmd`` body, read row by row (LF separated).

    A row starts at an ``ID=``; a line without one continues the row before it (firmware that
    puts ``Return=`` on its own line). A row without a readable ``Return`` is not a success.
    """
    rows: list[dict[str, str]] = []
    for line in lines(body):
        fields: dict[str, str] = {}
        for part in line.split("&"):
            key, _, value = part.partition("=")
            if key.strip():
                fields[key.strip()] = value.strip()
        if "ID" in fields or not rows:
            rows.append(fields)
        else:
            rows[-1].update({k: v for k, v in fields.items() if k not in rows[-1]})
    out = []
    for fields in rows:
        if not fields.get("ID"):
            continue
        raw = fields.get("Return")
        try:
            code: int | None = int(raw) if raw is not None else None
        except ValueError:
            code = None
        out.append(CommandReturn(fields["ID"], code, fields.get("CMD", "")))
    return out


def timezone_option(tz: ZoneInfo, at: dt.datetime | None = None) -> int:
    """The terminal's ``TimeZone`` option: whole hours east of UTC, or minutes for a zone with a
    half or quarter hour (``TimeZone=330`` for +05:30), as the protocol says."""
    offset = (at or localtime.now()).astimezone(tz).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return minutes // 60 if minutes % 60 == 0 else minutes


def zk_time(moment: dt.datetime) -> int:
    """A wall-clock time in the ZKTeco encoding ``rtdata?type=time`` answers with."""
    return (
        ((moment.year - 2000) * 12 * 31 + (moment.month - 1) * 31 + moment.day - 1) * 86400
        + (moment.hour * 60 + moment.minute) * 60
        + moment.second
    )

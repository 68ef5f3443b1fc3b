"""Parsing ZKTeco ADMS ("PUSH") bodies into the normalised punch pipeline's input."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from services.ingest import PunchIn

IN_STATUSES = {"0", "3", "4"}  # check-in, break-in, overtime-in
OUT_STATUSES = {"1", "2", "5"}  # check-out, break-out, overtime-out


def lines(body: bytes) -> list[str]:
    """Non-empty lines of a body, LF or CRLF."""
    text = body.decode("utf-8", errors="replace")
    return [ln.rstrip("\r") for ln in text.split("\n") if ln.strip()]


def parse_attlog_row(row: str, tz: ZoneInfo, antispoof: bool) -> PunchIn:
    """One ``PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>status<TAB>verify...`` row (errors → bad_field).

    The key is (PIN, time): a terminal re-sending a row is a duplicate, never a second punch.
    """
    cols = row.split("\t")
    payload = {"row": row[:500], "protocol": "adms"}
    bad_key = "adms:bad:" + hashlib.sha256(row.encode()).hexdigest()[:40]
    if len(cols) < 3:
        return PunchIn(reply_id=None, key=bad_key, payload=payload, error="row")
    pin, when, status = cols[0].strip(), cols[1].strip(), cols[2].strip()
    if not pin.isdigit() or len(pin) > 18:
        return PunchIn(reply_id=None, key=bad_key, payload=payload, error="PIN")
    try:
        local = dt.datetime.strptime(when, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return PunchIn(reply_id=None, key=bad_key, payload=payload, error="time")
    if status in IN_STATUSES:
        direction = "in"
    elif status in OUT_STATUSES:
        direction = "out"
    else:
        return PunchIn(reply_id=None, key=bad_key, payload=payload, error="status")
    moment = local.replace(tzinfo=tz)
    return PunchIn(
        reply_id=None,
        key=f"adms:{pin}:{local:%Y%m%d%H%M%S}",
        time=moment,
        direction=direction,
        pin=int(pin),
        liveness=antispoof,
        payload=payload,
    )


def parse_options(body: bytes) -> dict[str, str]:
    """``key=value`` metadata, one per line or comma separated (``~`` prefixes dropped)."""
    found: dict[str, str] = {}
    for line in lines(body):
        for part in line.split(","):
            key, sep, value = part.partition("=")
            if sep:
                found[key.strip().lstrip("~")] = value.strip()
    return found


def parse_devicecmd(body: bytes) -> list[tuple[str, int, str]]:
    """(command id, return code, CMD) for each ``ID=..&Return=..&CMD=..`` row."""
    out = []
    for line in lines(body):
        fields: dict[str, str] = {}
        for part in line.split("&"):
            key, _, value = part.partition("=")
            fields[key.strip()] = value.strip()
        if "ID" not in fields:
            continue
        try:
            code = int(fields.get("Return", "0"))
        except ValueError:
            code = -1
        out.append((fields["ID"], code, fields.get("CMD", "")))
    return out


def tz_offset_hours(tz: ZoneInfo) -> int:
    """The terminal's ``TimeZone`` option (whole hours east of UTC)."""
    offset = dt.datetime.now(tz).utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 3600)

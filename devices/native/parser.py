"""The native protocol's punch objects (``POST /device/v1/punches``, see docs/device-protocol.md):
each one normalised into the pipeline's ``PunchIn`` (errors become ``bad_field`` punches), with
the payload kept for diagnosis holding no personal data in clear (rule 11)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from realname.contract import INT_MAX
from services import pii
from services.files import decode_base64, sniff
from services.ingest import PunchIn, _encode

MAX_ID_LEN = 64
MAX_PHOTO_BYTES = 2 * 1024 * 1024


def _bad(reply_id: Any, key: str, message: str, payload: dict[str, Any]) -> PunchIn:
    return PunchIn(reply_id=reply_id, key=key, payload=payload, error=message)


def _payload_key(raw: Any) -> str:
    """The key of a punch without a usable id: a keyed digest of what was sent (the same punch
    sent again is a duplicate; a plain hash would let an ID number in it be guessed back)."""
    return "bad:" + (
        pii.cipher().blind_index("payload", json.dumps(raw, sort_keys=True, default=str)) or ""
    )


def parse_time(value: Any) -> dt.datetime | None:
    """An aware datetime from an ISO-8601 string with an offset, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# The native punch fields stored as received in ``punch.payload`` (no personal data in them).
_PLAIN_FIELDS = ("id", "person_id", "time", "direction", "liveness", "lat", "lng")
_PLAIN_SET = frozenset(_PLAIN_FIELDS)


def protect_payload(raw: Any) -> dict[str, Any]:
    """The payload kept for diagnosis, with no personal data in clear (rule 11).

    The contract's plain fields are kept as sent; the photo is omitted (it goes to the file
    store); an ``id_number`` becomes its masked form, blind index and AES-GCM ciphertext
    (``id_number_masked``, ``id_number_bidx``, ``id_number_enc``); any other field, or a
    punch that is not an object at all, is kept only encrypted (``extra_enc`` / ``raw_enc``).
    ``realname rotate-pii`` re-encrypts the ``*_enc`` values.
    """
    if not isinstance(raw, dict):
        return {"raw_enc": pii.cipher().encrypt(_encode(raw))}
    payload: dict[str, Any] = {k: raw[k] for k in _PLAIN_FIELDS if k in raw}
    if raw.keys() <= _PLAIN_SET:  # the common case: nothing to omit or encrypt
        return payload
    c = pii.cipher()
    if "photo" in raw:
        payload["photo"] = "<omitted>"
    if "id_number" in raw:
        number = raw["id_number"]
        text = (number if isinstance(number, str) else _encode(number)).strip().upper()
        payload["id_number_masked"] = pii.mask_id_number(text)
        payload["id_number_bidx"] = c.blind_index("id", text)
        payload["id_number_enc"] = c.encrypt(text)
    extra = {
        k: v for k, v in raw.items() if k not in _PLAIN_FIELDS and k not in ("photo", "id_number")
    }
    if extra:
        payload["extra_enc"] = c.encrypt(_encode(extra))
    return payload


def _person_id(value: Any) -> int | None:
    """A punch's ``person_id``: a whole number (a JSON integer, an integral number, or its digits
    as text) within the id column, else None. ``true`` is no person (``int(True)`` would be
    person 1), nor is 12.5; beyond the column a PostgreSQL lookup could not even bind it (a 500
    once); ``1e400`` parses as infinity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():  # also inf and nan
            return None
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            return None
        value = int(text)
    elif not isinstance(value, int):
        return None
    return value if 1 <= value <= INT_MAX else None


def parse_native(raw: Any) -> PunchIn:
    """Normalise one native-protocol punch object (errors become ``bad_field`` punches)."""
    if not isinstance(raw, dict):
        return _bad(None, _payload_key(raw), "punch 应为对象", protect_payload(raw))
    payload = protect_payload(raw)
    pid = raw.get("id")
    if (
        not isinstance(pid, str | int)
        or isinstance(pid, bool)
        or not str(pid).strip()
        or len(str(pid)) > MAX_ID_LEN
    ):
        return _bad(pid, _payload_key(raw), "id", payload)
    key = str(pid)
    p = PunchIn(reply_id=pid, key=key, payload=payload)
    person_id, id_number = raw.get("person_id"), raw.get("id_number")
    if person_id is not None and id_number is None:
        p.person_id = _person_id(person_id)
        if p.person_id is None:
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

"""Personal-data protection (PIPL): field encryption, blind indexes, masking and validation.

* AES-256-GCM field encryption. A stored value is ``<keyid>$<base64(nonce|ciphertext)>``, so
  keys can be rotated: the first key of ``PII_KEYS`` encrypts, every listed key decrypts, and
  ``realname rotate-pii`` re-encrypts old rows with the current key.
* HMAC-SHA256 blind indexes let a person be found by exact ID number or phone without decrypting
  the table.
* Masking for replies and exports (``340124*****0933``, ``189****1977``).
* Validation of ID numbers (GB 11643 check digit, birth date, a region code that is or was a
  real division: :func:`validate_id_number`) and credit codes (``stdnum.cn.uscc``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from config.settings import Settings, get_settings
from realname import error_codes as E
from realname.errors import ValidationError
from services import localtime

_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class PiiCipher:
    """AES-GCM encryption keyed by id, plus the HMAC key for blind indexes."""

    def __init__(self, pii_keys: str, blind_index_key: str) -> None:
        self._keys: dict[str, AESGCM] = {}
        self.active_kid = ""
        for item in [v.strip() for v in pii_keys.split(",") if v.strip()]:
            kid, key = item.split(":", 1)
            raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
            self._keys[kid] = AESGCM(raw)
            self.active_kid = self.active_kid or kid
        self._bidx_key = blind_index_key.encode()

    @classmethod
    def from_settings(cls, settings: Settings) -> PiiCipher:
        """Build the cipher from the settings' keys."""
        return cls(settings.pii_keys, settings.blind_index_key)

    def encrypt(self, plaintext: str | None) -> str | None:
        """Encrypt a value with the active key; None stays None."""
        if plaintext is None or plaintext == "":
            return None
        nonce = os.urandom(12)
        ct = self._keys[self.active_kid].encrypt(
            nonce, plaintext.encode(), self.active_kid.encode()
        )
        return f"{self.active_kid}${base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str | None) -> str | None:
        """Decrypt a stored value with the key named in it."""
        if not token:
            return None
        kid, _, payload = token.partition("$")
        if kid not in self._keys:
            raise KeyError(f"PII key {kid!r} is not configured (PII_KEYS)")
        raw = base64.b64decode(payload)
        return self._keys[kid].decrypt(raw[:12], raw[12:], kid.encode()).decode()

    def with_key(self, item: str, active: bool = True) -> PiiCipher:
        """A copy that also holds ``keyid:base64key`` (encrypting with it when ``active``): a
        rotation drill or test; in production the keys come from ``PII_KEYS``."""
        kid, key = item.split(":", 1)
        copy = PiiCipher("", "")
        copy._keys = {
            **self._keys,
            kid: AESGCM(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))),
        }
        copy.active_kid = kid if active else self.active_kid
        copy._bidx_key = self._bidx_key
        return copy

    def needs_rotation(self, token: str | None) -> bool:
        """True when the stored value was encrypted with a key other than the active one."""
        return bool(token) and not str(token).startswith(self.active_kid + "$")

    def blind_index(self, kind: str, value: str | None) -> str | None:
        """A keyed digest of a normalised value, for exact-match lookups."""
        if not value:
            return None
        msg = f"{kind}:{value.strip().upper()}".encode()
        return hmac.new(self._bidx_key, msg, hashlib.sha256).hexdigest()[:40]


_cipher: PiiCipher | None = None


def cipher() -> PiiCipher:
    """The process-wide cipher (built from the settings on first use)."""
    global _cipher
    if _cipher is None:
        _cipher = PiiCipher.from_settings(get_settings())
    return _cipher


def use(c: PiiCipher) -> PiiCipher:
    """Make ``c`` the process-wide cipher."""
    global _cipher
    _cipher = c
    return c


def configure(settings: Settings) -> PiiCipher:
    """Rebuild the process-wide cipher from explicit settings (app start, tests)."""
    global _cipher
    _cipher = PiiCipher.from_settings(settings)
    return _cipher


# --- masking -------------------------------------------------------------------------------------


def id_number_columns(number: str) -> dict[str, Any]:
    """How a person's ID number is stored: encrypted, its blind index (the lookup key) and the
    masked form replies show."""
    c = cipher()
    return {
        "id_number_enc": c.encrypt(number),
        "id_number_bidx": c.blind_index("id", number),
        "id_number_masked": mask_id_number(number),
    }


def phone_columns(phone: str) -> dict[str, Any]:
    """How a person's phone number is stored: encrypted, its blind index and its masked form."""
    c = cipher()
    return {
        "phone_enc": c.encrypt(phone),
        "phone_bidx": c.blind_index("phone", phone),
        "phone_masked": mask_phone(phone),
    }


def _mask(value: str | None, shortest: int, head: int, stars: str) -> str:
    """``value`` with its first ``head`` and last four characters kept around ``stars``; a value
    shorter than ``shortest`` is all stars, an empty one stays empty."""
    if not value:
        return ""
    if len(value) < shortest:
        return "*" * len(value)
    return f"{value[:head]}{stars}{value[-4:]}"


def mask_id_number(value: str | None) -> str:
    """``340124199001010933`` → ``340124*****0933`` (as the manual shows it)."""
    return _mask(value, 10, 6, "*****")


def mask_phone(value: str | None) -> str:
    """``18956091977`` → ``189****1977``."""
    return _mask(value, 7, 3, "****")


def mask_bank_card(value: str | None) -> str:
    """``6222021234567890123`` → ``6222 **** **** 0123``."""
    return _mask(value, 8, 4, " **** **** ")


# --- validation ----------------------------------------------------------------------------------


def id_region_known(code: str) -> bool:
    """True when a 6-digit region code is, or ever was, an administrative division.

    A number keeps the region it was first issued with, so a code retired or created in any year
    counts (python-stdnum's division list carries each code's ``[from-to]`` years; they are ignored
    here, unlike ``stdnum.cn.ric.validate``, which wants the code to exist in the birth year).
    """
    from stdnum import numdb

    parts = numdb.get("cn/loc").info(code)
    return any(props.get("county") for _, props in parts)


def validate_id_number(value: str | None, field: str = "id_number") -> str:
    """Normalise and check a resident ID number; raise naming `field`.

    The one ID-number check of the platform: 18 characters, GB 11643 check digit, a real birth date
    (not in the future) and a region code that is or was a real division.
    """
    if not value or not str(value).strip():
        raise ValidationError("请填写身份证号", code=E.REQUIRED.code, field=field)
    number = ric.compact(str(value))
    if len(number) != 18 or not number[:17].isdigit() or not re.fullmatch(r"[\dX]", number[17]):
        raise ValidationError(code=E.INVALID_ID_NUMBER.code, field=field)
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(
            "身份证号校验位错误，请核对后重新输入", code=E.INVALID_ID_NUMBER.code, field=field
        )
    try:
        born = ric.get_birth_date(number)
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(
            "身份证号中的出生日期无效", code=E.INVALID_ID_NUMBER.code, field=field
        ) from exc
    if born.year < 1900 or born > localtime.today():
        raise ValidationError(
            "身份证号中的出生日期无效", code=E.INVALID_ID_NUMBER.code, field=field
        )
    if not id_region_known(number[:6]):
        raise ValidationError(
            "身份证号前6位不是有效的行政区划代码", code=E.INVALID_ID_NUMBER.code, field=field
        )
    return number


def id_birth_date(number: str) -> dt.date:
    """The birth date encoded in a valid ID number."""
    return ric.get_birth_date(number)


def id_gender(number: str) -> str:
    """'男' or '女' from the 17th digit of a valid ID number."""
    return "男" if int(number[16]) % 2 == 1 else "女"


def validate_credit_code(value: str | None, field: str = "credit_code") -> str:
    """Normalise and check an 18-character unified social credit code."""
    if not value or not str(value).strip():
        raise ValidationError("请填写统一社会信用代码", code=E.REQUIRED.code, field=field)
    try:
        return uscc.validate(str(value).strip().upper())
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(code=E.INVALID_CREDIT_CODE.code, field=field) from exc


def validate_phone(value: str | None, field: str = "phone", required: bool = True) -> str | None:
    """Check a mainland mobile number (11 digits starting 13–19)."""
    if not value or not str(value).strip():
        if required:
            raise ValidationError("请填写手机号", code=E.REQUIRED.code, field=field)
        return None
    phone = str(value).strip().replace(" ", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE_RE.match(phone):
        raise ValidationError(code=E.INVALID_PHONE.code, field=field)
    return phone


def validate_bank_card(value: str | None, field: str = "bank_card") -> str:
    """Check a bank card number (12–19 digits, Luhn where it applies)."""
    card = (value or "").replace(" ", "").strip()
    if not card:
        raise ValidationError("请填写工资卡号", code=E.REQUIRED.code, field=field)
    if not card.isdigit() or not 12 <= len(card) <= 19:
        raise ValidationError(code=E.INVALID_BANK_CARD.code, field=field)
    return card


async def rotate_all(batch: int = 500) -> dict[str, int]:
    """Re-encrypt, with the active key, every ``*_enc`` value written with an older key."""
    from tortoise import Tortoise

    c = cipher()
    counts: dict[str, int] = {}
    for app in Tortoise.apps.values():
        for model in app.values():
            enc_fields = [f for f in model._meta.fields_map if f.endswith("_enc")]
            if not enc_fields:
                continue
            done = 0
            last_pk = None
            pk = model._meta.pk_attr
            while True:
                qs = model.all().order_by(pk).limit(batch)
                if last_pk is not None:
                    qs = qs.filter(**{f"{pk}__gt": last_pk})
                rows = await qs
                if not rows:
                    break
                for row in rows:
                    changed = []
                    for name in enc_fields:
                        value = getattr(row, name)
                        if c.needs_rotation(value):
                            setattr(row, name, c.encrypt(c.decrypt(value)))
                            changed.append(name)
                    if changed:
                        await row.save(update_fields=changed)
                        done += 1
                last_pk = rows[-1].pk
            counts[model._meta.db_table] = done
    for table, n in (await _rotate_json(c, batch)).items():
        counts[table] = counts.get(table, 0) + n
    return counts


def _rotate_nested(c: PiiCipher, value: object) -> tuple[object, bool]:
    """``value`` with every ``*_enc`` string inside it re-encrypted with the active key."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, object] = {}
        for key, item in value.items():
            if isinstance(key, str) and key.endswith("_enc") and isinstance(item, str):
                if c.needs_rotation(item):
                    item = c.encrypt(c.decrypt(item))
                    changed = True
            else:
                item, sub = _rotate_nested(c, item)
                changed = changed or sub
            out[key] = item
        return out, changed
    if isinstance(value, list):
        items = [_rotate_nested(c, v) for v in value]
        return [v for v, _ in items], any(ch for _, ch in items)
    return value, False


async def _rotate_json(c: PiiCipher, batch: int) -> dict[str, int]:
    """Re-encrypt the ``*_enc`` values kept inside JSON columns (e.g. the ID number of a punch
    payload): only rows whose JSON text names such a key are read, in primary-key order."""
    import json

    from tortoise import Tortoise, connections
    from tortoise.fields import JSONField

    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    counts: dict[str, int] = {}
    for app in Tortoise.apps.values():
        for model in app.values():
            meta = model._meta
            for name, field in meta.fields_map.items():
                if not isinstance(field, JSONField):
                    continue
                column = field.source_field or name
                pk_col = meta.fields_map[meta.pk_attr].source_field or meta.pk_attr
                ph = ["$1", "$2", "$3"] if pg else ["?", "?", "?"]
                select = f'SELECT "{pk_col}", CAST("{column}" AS TEXT) FROM "{meta.db_table}"'
                tail = f" ESCAPE '!' ORDER BY \"{pk_col}\" LIMIT "
                first = f'{select} WHERE CAST("{column}" AS TEXT) LIKE {ph[0]}{tail}{ph[1]}'
                after = (
                    f'{select} WHERE "{pk_col}" > {ph[0]} AND CAST("{column}" AS TEXT)'
                    f" LIKE {ph[1]}{tail}{ph[2]}"
                )
                last: object = None
                done = 0
                while True:
                    pattern = '%!_enc"%'
                    _, rows = await conn.execute_query(
                        first if last is None else after,
                        [pattern, batch] if last is None else [last, pattern, batch],
                    )
                    if not rows:
                        break
                    for pk, text in rows:
                        value, changed = _rotate_nested(c, json.loads(text) if text else None)
                        if changed:
                            await model.filter(**{meta.pk_attr: pk}).update(**{name: value})
                            done += 1
                    last = rows[-1][0]
                if done:
                    counts[meta.db_table] = counts.get(meta.db_table, 0) + done
    return counts

"""Request signing (HMAC-SHA256 over method, path, timestamp, nonce and body digest) and its
verification, with the contract's error codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets as pysecrets
import time
from typing import Any

from models import Device
from realname import error_codes as E
from realname.errors import AppError
from services.devices.cache import load_device
from services.devices.presence import record_unregistered

# --- signing ---------------------------------------------------------------------------------


def body_digest(body: bytes) -> str:
    """SHA-256 hex of a request body (the empty body hashes the empty string)."""
    return hashlib.sha256(body or b"").hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(body)`` as bytes."""
    return "\n".join([method.upper(), path, timestamp, nonce, body_digest(body)]).encode()


def sign(
    secret: str | bytes, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The lowercase hex HMAC-SHA256 signature of a request."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(
        key, string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def signed_headers(
    sn: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four signing headers for a request (simulator, tests, benchmarks)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or pysecrets.token_hex(16)
    return {
        "X-Device-SN": sn,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": sign(secret, method, path, ts, nonce, body),
    }


async def verify_request(
    redis: Any,
    *,
    sn: str,
    timestamp: str,
    nonce: str,
    signature: str,
    method: str,
    path: str,
    body: bytes,
    clock_window: int,
    nonce_ttl: int,
    ip: str = "",
    allow_forced: bool = False,
) -> Device:
    """Check a native request's identity, signature, clock and nonce; return its bound device."""
    if not sn:
        raise AppError("缺少设备编码", code=E.BAD_SIGNATURE.code, status=401, field="X-Device-SN")
    if len(sn) > 64 or not sn.isascii():  # no serial can be like this (Device.sn is 64 chars)
        raise AppError("设备未登记", code=E.DEVICE_UNKNOWN.code, status=403, field="X-Device-SN")
    auth = await load_device(sn)
    if auth is None:
        await record_unregistered(sn, "native", ip)
        raise AppError("设备未登记", code=E.DEVICE_UNKNOWN.code, status=403)
    if not timestamp or not nonce or not signature:
        missing = next(
            h
            for h, v in (("X-Timestamp", timestamp), ("X-Nonce", nonce), ("X-Signature", signature))
            if not v
        )
        raise AppError("缺少签名信息", code=E.BAD_SIGNATURE.code, status=401, field=missing)
    if not 16 <= len(nonce) <= 64 or not nonce.isascii():
        raise AppError(
            "随机串长度应为16–64个字符", code=E.BAD_SIGNATURE.code, status=401, field="X-Nonce"
        )
    if not signature.isascii():  # hmac.compare_digest refuses non-ASCII text
        raise AppError("签名错误", code=E.BAD_SIGNATURE.code, status=401, field="X-Signature")
    expected = sign(auth.secret, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise AppError("签名错误", code=E.BAD_SIGNATURE.code, status=401)
    server_time = int(time.time())
    try:
        skew = abs(server_time - int(timestamp))
    except ValueError:
        raise AppError(
            "时间戳格式错误", code=E.BAD_SIGNATURE.code, status=401, field="X-Timestamp"
        ) from None
    if skew > clock_window:
        raise AppError(
            "设备时钟与服务器相差过大，请校准时间",
            code=E.SIGNATURE_EXPIRED.code,
            status=401,
            extra={"server_time": server_time},
        )
    # Nonces are remembered longer than the clock window, so a replay is always caught.
    fresh = await redis.set(
        f"dev:nonce:{auth.device.id}:{nonce}", b"1", nx=True, ex=max(nonce_ttl, 2 * clock_window)
    )
    if not fresh:
        raise AppError("请求已使用过（随机串重复）", code=E.REPLAYED_NONCE.code, status=401)
    device = auth.device
    if device.project_id is None:
        raise AppError("设备未绑定项目", code=E.DEVICE_UNBOUND.code, status=403)
    if device.forced_offline and not allow_forced:
        raise AppError("设备已被强制下线", code=E.DEVICE_OFFLINE_FORCED.code, status=403)
    return device

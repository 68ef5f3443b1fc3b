"""Rate limits kept in Redis (shared by every process): sliding windows per action and caller.

A limit is named (``login``, ``binding``...) and counted per key (an IP address, an account id).
`hit` records one attempt and raises `RateLimited` (429, Chinese message, ``retry_after`` seconds)
once the window is full. Attempts are kept in a sorted set scored by time, so the window slides.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import redis.asyncio as aredis

from realname import error_codes as E
from realname.errors import RateLimited

PREFIX = "rl:"


@dataclass(frozen=True)
class Limit:
    """At most `limit` attempts of `name` per key in any `window` seconds."""

    name: str
    limit: int
    window: int
    message: str = "操作过于频繁，请稍后再试"


# The limits of the sign-in surfaces. Per IP where the caller is anonymous, per account after.
SSO_START = Limit("sso_start", 30, 60, "企业登录请求过于频繁，请稍后再试")
SSO_CALLBACK = Limit("sso_callback", 30, 60, "企业登录请求过于频繁，请稍后再试")
MINIAPP_LOGIN = Limit("miniapp_login", 30, 60, "登录过于频繁，请稍后再试")
QR_CREATE = Limit("qr_create", 20, 60, "二维码获取过于频繁，请稍后再试")
# All callers together: every ticket spends one getwxacodeunlimit call of WeChat's per-AppID
# quota (5000 a minute, shared with other systems using the AppID); keep far below it.
QR_CREATE_ALL = Limit("qr_create_all", 1000, 60, "当前扫码登录请求过多，请稍后再试或使用企业登录")
QR_POLL = Limit("qr_poll", 120, 60, "扫码状态查询过于频繁，请稍后再试")
QR_SCAN = Limit("qr_scan", 20, 60, "扫码过于频繁，请稍后再试")
# Binding guesses name + ID number pairs: tight, per account and per IP.
BINDING = Limit("binding", 10, 600, "实名绑定尝试次数过多，请10分钟后再试")
BINDING_IP = Limit("binding_ip", 30, 600, "实名绑定尝试次数过多，请稍后再试")
# Per person asked for (the ID number's blind index), whoever asks: guesses spread over accounts.
BINDING_PERSON = Limit("binding_person", 5, 3600, "该身份证号的实名绑定尝试次数过多，请1小时后再试")


def _key(limit: Limit, key: str) -> str:
    """The Redis key of a limit's window for one caller."""
    return f"{PREFIX}{limit.name}:{key}"


async def hit(redis: aredis.Redis, limit: Limit, key: str) -> int:
    """Count one attempt of `limit` for `key`; raise RateLimited when the window is full."""
    rkey = _key(limit, key)
    now = time.time()
    member = f"{now:.6f}:{secrets.token_hex(4)}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(rkey, 0, now - limit.window)
        pipe.zadd(rkey, {member: now})
        pipe.zcard(rkey)
        pipe.zrange(rkey, 0, 0, withscores=True)
        pipe.expire(rkey, limit.window + 1)
        _, _, count, oldest, _ = await pipe.execute()
    if count > limit.limit:
        # A refused attempt does not count: remove it, so waiting `retry_after` is enough.
        await redis.zrem(rkey, member)
        first = oldest[0][1] if oldest else now
        retry_after = max(1, int(first + limit.window - now + 0.999))
        raise RateLimited(
            limit.message,
            code=E.RATE_LIMITED.code,
            extra={"retry_after": retry_after, "limit": limit.name},
        )
    return int(count)


async def reset(redis: aredis.Redis, limit: Limit, key: str) -> None:
    """Forget the attempts of `key` (e.g. after a successful binding)."""
    await redis.delete(_key(limit, key))

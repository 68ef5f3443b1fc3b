"""Helpers shared by CLI commands: open/close the database and Redis around a command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aredis

from config.settings import Settings
from realname import db
from realname.redis_conn import RedisHandle
from services import pii


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    """The database, open for the duration of a command."""
    pii.configure(settings)
    await db.init_db(settings)
    try:
        yield
    finally:
        await db.close_db()


@asynccontextmanager
async def redis_client(settings: Settings) -> AsyncIterator[aredis.Redis]:
    """A Redis client (the embedded server is shared with a running app through its db file)."""
    handle = RedisHandle(settings)
    client = handle.async_client()
    try:
        yield client
    finally:
        await client.aclose()
        handle.release()  # stops an embedded server this command started, not a running one

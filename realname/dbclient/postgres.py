"""Tortoise engine ``realname.dbclient.postgres``: the asyncpg client, safe under cancellation.

asyncpg itself gives a pooled connection back when ``acquire`` is cancelled and resets one
released in the middle of a cancelled query; what it cannot know is a connection Tortoise took
for a transaction whose ``BEGIN`` was cancelled. See the package docstring.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import TransactionalDBClient, TransactionContextPooled
from tortoise.connection import get_connections

from realname.dbclient import end_transaction, run_to_completion
from realname.singleflight import SingleFlight


class SafeTransactionContext(TransactionContextPooled):
    """A transaction on a pooled connection that is always given back."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        pool = self.client._parent._pool
        conn = await pool.acquire()
        token = None
        try:
            self.client._connection = conn
            token = get_connections().set(self.connection_name, self.client)
            await self.client.begin()
        except BaseException:
            try:
                # Release resets the connection (rolls back a BEGIN that went through).
                await run_to_completion(pool.release(conn))
            finally:
                if token is not None:
                    get_connections().reset(token)
            raise
        self.token = token
        self._pool = pool
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            await end_transaction(self.client, exc_type)
        finally:
            try:
                await run_to_completion(self._pool.release(self.client._connection))
            finally:
                get_connections().reset(self.token)


async def keep_session(conn: Any) -> None:
    """The pool's reset of a released connection: nothing beyond asyncpg's own (which rolls back
    an open transaction and drops listeners).

    asyncpg's default also sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` — one more round trip on every release, ~9 % of a signed punch's server CPU
    (py-spy) plus the database's. The platform keeps no session state: no advisory locks,
    LISTEN, session ``SET`` or cursors outside a transaction (``SET LOCAL`` ends with its
    transaction). Code that adds any must reset it itself.
    """


class SafeAsyncpgClient(AsyncpgDBClient):
    """``AsyncpgDBClient`` whose pool opening and transactions survive cancellation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._opening: SingleFlight[str, None] = SingleFlight()

    async def create_connection(self, with_db: bool) -> None:
        if self._pool is not None:
            return

        async def open_pool() -> None:
            if self._pool is None:
                await AsyncpgDBClient.create_connection(self, with_db)

        await self._opening.run("pool", open_pool)

    async def create_pool(self, **kwargs: Any) -> Any:
        kwargs.setdefault("reset", keep_session)
        return await super().create_pool(**kwargs)

    async def close(self) -> None:
        await self._opening.settle("pool")
        await run_to_completion(super().close())

    def _in_transaction(self) -> SafeTransactionContext:
        return SafeTransactionContext(TransactionWrapper(self), self._pool_init_lock)


client_class = SafeAsyncpgClient

"""Tortoise database clients that no cancellation can wedge (SQLite and PostgreSQL).

Tortoise's stock clients take their lock or a pooled connection, and only then open the
connection or start the transaction, inside ``__aenter__``. A task cancelled there (a health
check's ``wait_for`` timing out, a client disconnecting, the server shutting down) leaves
``__aenter__`` by an exception, so ``__aexit__`` never runs:

- SQLite: the client's single ``asyncio.Lock`` stays held for good, and every later query waits on
  it forever; a connection cancelled between ``aiosqlite.connect`` and its ``PRAGMA``s is kept
  half set up (no WAL, no foreign keys); a ``BEGIN`` that went through before the cancellation
  leaves the connection inside a transaction nobody ends; ``execute_many`` (bulk inserts) cancelled
  between its ``BEGIN`` and ``COMMIT`` does the same.
- PostgreSQL: a transaction cancelled while sending ``BEGIN`` never gives its pooled connection
  back: after ``maxsize`` of them every request waits forever; a pool whose creation is
  cancelled is thrown away half built.

The clients here (``realname.dbclient.sqlite``, ``realname.dbclient.postgres``, chosen by
``realname.db.tortoise_config``) close those windows:

- the connection (SQLite) or pool (PostgreSQL) is opened by one shared task that callers await
  through ``asyncio.shield`` (``realname.singleflight``): a cancelled caller leaves at once, the
  opening completes on its own and is published only once fully set up; the next caller reuses
  it (or retries a failed one);
- whatever a caller took before a cancellation (the lock, a pooled connection, a ``BEGIN``) is
  given back before the cancellation propagates;
- the end of a transaction (``COMMIT``/``ROLLBACK``) and the rollback of a half-begun one run to
  completion even when the caller is cancelled again meanwhile (then the cancellation is re-raised).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from tortoise.exceptions import TransactionManagementError

T = TypeVar("T")

log = logging.getLogger("realname.db")


async def run_to_completion(aw: Awaitable[T]) -> T:
    """Await ``aw`` to its end even if the calling task is cancelled meanwhile.

    A cancellation received while waiting is re-raised once ``aw`` has finished, so the caller's
    cleanup (a rollback, giving a connection back) is complete before anything else runs.
    """
    task = asyncio.ensure_future(aw)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait({task})  # unlike shield(), wait() never cancels the task
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not task.cancelled():
            _consume(task)
        raise asyncio.CancelledError()
    return task.result()


async def end_transaction(client: Any, exc_type: type[BaseException] | None) -> None:
    """Commit the transaction of ``client`` (a ``TransactionWrapper``), or roll it back when the
    block raised, unless it was already ended; to completion (``run_to_completion``)."""
    if client._finalized:
        return
    if exc_type is None:
        await run_to_completion(client.commit())
    elif exc_type is not TransactionManagementError:  # raised by an end already attempted
        await run_to_completion(client.rollback())


def _consume(task: asyncio.Future[Any]) -> None:
    """Mark a finished task's exception as retrieved (it is reported another way)."""
    if not task.cancelled():
        task.exception()

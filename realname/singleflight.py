"""One run of a read per key at a time, shared by the callers that ask for it meanwhile.

Used where concurrent callers would otherwise each do the same work: opening a database
connection or pool (``realname.dbclient``), reading a device's registry row or project
(``services.devices.cache``), looking up a project's members for punches arriving together
(``services.ingest``). The rules every user relies on:

- the run is a task of its own, awaited through ``asyncio.shield``: a caller that is cancelled
  leaves at once, the run goes on for the others (nothing is left half open or half read);
- its outcome reaches every caller: the result, or the exception it raised (a run cancelled
  itself, e.g. on shutdown, reaches them as a ``RuntimeError``: a caller that was not cancelled
  does not see a ``CancelledError`` that is not its own);
- a finished run is never reused: the next call runs again (callers keep what they want to
  reuse in caches of their own); ``forget(key)`` makes the next call start a new run even while
  one is under way (its callers still get its outcome);
- runs belong to the running event loop: one of another loop is not joined.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class SingleFlight(Generic[K, T]):
    """Keyed single flight: ``await flights.run(key, fn)`` joins the run of ``fn()`` under way
    for ``key`` or starts one."""

    def __init__(self) -> None:
        self._runs: dict[K, tuple[asyncio.Future[T], asyncio.Task[None]]] = {}

    async def run(self, key: K, fn: Callable[[], Awaitable[T]]) -> T:
        """The outcome of the run for ``key`` under way, or of a new run of ``fn()``."""
        loop = asyncio.get_running_loop()
        entry = self._runs.get(key)
        if entry is None or entry[0].done() or entry[0].get_loop() is not loop:
            outcome: asyncio.Future[T] = loop.create_future()
            entry = self._runs[key] = (outcome, loop.create_task(self._fly(key, outcome, fn)))
        return await asyncio.shield(entry[0])

    async def _fly(
        self, key: K, outcome: asyncio.Future[T], fn: Callable[[], Awaitable[T]]
    ) -> None:
        try:
            result = await fn()
        except BaseException as exc:  # handed to every caller (also a cancellation of the run)
            self._drop(key, outcome)
            outcome.set_exception(
                exc if isinstance(exc, Exception) else RuntimeError(f"shared run ended: {exc!r}")
            )
            outcome.exception()  # retrieved here too: no warning when every caller went away
            if not isinstance(exc, Exception):
                raise
        else:
            self._drop(key, outcome)
            outcome.set_result(result)

    def _drop(self, key: K, outcome: asyncio.Future[Any]) -> None:
        entry = self._runs.get(key)
        if entry is not None and entry[0] is outcome:
            del self._runs[key]

    def forget(self, key: K) -> None:
        """Make the next call for ``key`` start a new run (one under way still ends for its
        callers)."""
        self._runs.pop(key, None)

    def clear(self) -> None:
        """``forget`` every key."""
        self._runs.clear()

    async def settle(self, key: K) -> None:
        """Wait for the run for ``key`` under way, if any, ignoring its outcome (before closing
        what it opens); the next call starts a new run."""
        entry = self._runs.pop(key, None)
        if entry is not None and entry[1].get_loop() is asyncio.get_running_loop():
            await asyncio.wait({entry[1]})

"""``realname.singleflight.SingleFlight``: one run per key shared by its concurrent callers
(database openings, registry reads, member lookups rely on each rule checked here)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from realname.singleflight import SingleFlight


class Reads:
    """A read that counts its runs and finishes when the test lets it."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.cancelled = False
        self.fail: BaseException | None = None

    async def __call__(self) -> int:
        self.runs += 1
        run = self.runs
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.fail is not None:
            raise self.fail
        return run


async def _started(*tasks: asyncio.Task) -> None:
    """Let the tasks reach their await of the run."""
    for _ in range(3):
        await asyncio.sleep(0)
    assert not any(t.done() for t in tasks)


async def test_concurrent_callers_share_one_run_and_keys_are_apart() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read, other = Reads(), Reads()
    callers = [asyncio.create_task(flights.run("a", read)) for _ in range(5)]
    elsewhere = asyncio.create_task(flights.run("b", other))
    await _started(*callers, elsewhere)
    read.release.set()
    other.release.set()
    assert await asyncio.gather(*callers) == [1] * 5
    assert await elsewhere == 1
    assert (read.runs, other.runs) == (1, 1)


async def test_a_cancelled_caller_does_not_cancel_the_run_for_the_others() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read = Reads()
    first = asyncio.create_task(flights.run("k", read))
    second = asyncio.create_task(flights.run("k", read))
    await _started(first, second)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first  # it leaves at once, while the run is still waiting
    assert not read.cancelled and not second.done()
    read.release.set()
    assert await second == 1
    assert read.runs == 1 and not read.cancelled


async def test_the_run_goes_on_when_every_caller_went_away() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read = Reads()
    only = asyncio.create_task(flights.run("k", read))
    await _started(only)
    only.cancel()
    await asyncio.gather(only, return_exceptions=True)
    read.release.set()
    await flights.settle("k")  # the run ends on its own
    assert read.runs == 1 and not read.cancelled


async def test_an_exception_reaches_every_caller_and_the_next_call_runs_again() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read = Reads()
    read.fail = LookupError("gone")
    callers = [asyncio.create_task(flights.run("k", read)) for _ in range(3)]
    await _started(*callers)
    read.release.set()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert [type(o) for o in outcomes] == [LookupError] * 3
    read.fail = None
    assert await flights.run("k", read) == 2  # a failed run is not reused


async def test_a_finished_run_is_not_reused() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read = Reads()
    read.release.set()
    assert await flights.run("k", read) == 1
    assert await flights.run("k", read) == 2  # asked right after the first ended: a new run
    callers = [asyncio.create_task(flights.run("k", read)) for _ in range(2)]
    assert await asyncio.gather(*callers) == [3, 3]


async def test_forget_starts_a_new_run_while_the_old_one_ends_for_its_callers() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read = Reads()
    old = asyncio.create_task(flights.run("k", read))
    await _started(old)
    flights.forget("k")
    new = asyncio.create_task(flights.run("k", read))
    await _started(old, new)
    assert read.runs == 2
    read.release.set()
    assert (await old, await new) == (1, 2)


async def test_a_run_cancelled_itself_reaches_callers_as_an_error_not_their_cancellation() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read = Reads()
    caller = asyncio.create_task(flights.run("k", read))
    await _started(caller)
    _, run = flights._runs["k"]  # cancelled by no caller: e.g. a loop's shutdown
    run.cancel()
    with pytest.raises(RuntimeError, match="shared run ended"):
        await caller
    assert read.cancelled


async def test_a_failure_nobody_waits_for_is_not_reported_as_unretrieved(caplog) -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    read = Reads()
    read.fail = LookupError("gone")
    only = asyncio.create_task(flights.run("k", read))
    await _started(only)
    only.cancel()
    await asyncio.gather(only, return_exceptions=True)
    read.release.set()
    await flights.settle("k")
    del only, read  # the exception (kept by the read) holds the run's frame and outcome
    gc.collect()
    assert "never retrieved" not in caplog.text

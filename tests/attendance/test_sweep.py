"""The background settlement loop: runs at once, survives a failing run, runs again."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.attendance.sweep import _every


async def test_a_failed_run_is_logged_and_the_next_run_settles(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0
    third = asyncio.Event()

    async def settle() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        if calls == 3:
            third.set()
        return 2

    with caplog.at_level(logging.INFO, logger="realname.attendance"):
        task = asyncio.create_task(_every(0, settle, "pending"))
        await asyncio.wait_for(third.wait(), timeout=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "pending attendance days: settlement failed"
    assert "settled 2 pending attendance days" in messages

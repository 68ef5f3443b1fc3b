"""The closed-day sweep and the app's background settlement tasks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from models import DailyAttendance, DayState
from services import localtime
from services.attendance.clock import project_zone
from services.attendance.pending import PENDING_SWEEP_SECONDS, _drainers, settle_pending
from services.attendance.settlement import settle_days

log = logging.getLogger("realname.attendance")
SETTLE_INTERVAL_SECONDS = 300  # the background sweep of closed days


async def settle_closed_days(today: dt.date | None = None) -> int:
    """Settle every day still marked *today* whose day has closed in its project's time zone."""
    # UTC+14 is the furthest ahead any zone gets: no zone's today is later than this bound.
    horizon = today or (localtime.now() + dt.timedelta(hours=14)).date()
    open_rows = await DailyAttendance.filter(state=DayState.TODAY, day__lt=horizon).values_list(
        "project_id", "member_id", "day"
    )
    by_project: dict[int, set[tuple[int, dt.date]]] = defaultdict(set)
    for project_id, member_id, day in open_rows:
        by_project[project_id].add((member_id, day))
    total = 0
    for project_id, pairs in by_project.items():
        local_today = today or localtime.today(await project_zone(project_id))
        closed = {(m, d) for m, d in pairs if d < local_today}
        if closed:
            total += await settle_days(project_id, closed, local_today)
    return total


async def _every(seconds: float, settle: Callable[[], Awaitable[int]], which: str) -> None:
    """Run a settlement now and then every ``seconds``; a failure is logged and the next run
    retries."""
    while True:
        try:
            n = await settle()
            if n:
                log.info("settled %d %s attendance days", n, which)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep sweeping; the next run retries
            log.exception("%s attendance days: settlement failed", which)
        await asyncio.sleep(seconds)


def register_background(app: Any) -> None:
    """Background settlement in the app: pending member-days (at start-up, then every few
    seconds: recovers marks left by a crash) and the closed-day sweep every few minutes (not in
    tests, which call it)."""

    @app.after_server_start
    async def _start_sweep(app: Any, _loop: Any = None) -> None:
        loop = asyncio.get_running_loop()
        app.ctx.pending_sweep = loop.create_task(
            _every(PENDING_SWEEP_SECONDS, settle_pending, "pending")
        )
        if getattr(app.ctx.settings, "env", "") == "test":
            return
        app.ctx.attendance_sweep = loop.create_task(
            _every(SETTLE_INTERVAL_SECONDS, settle_closed_days, "closed")
        )

    @app.before_server_stop
    async def _stop_sweep(app: Any, _loop: Any = None) -> None:
        drainer = _drainers.get(asyncio.get_running_loop())
        if drainer is not None and drainer.task is not None:  # finish the settling under way
            with contextlib.suppress(Exception):
                await drainer.task
        for name in ("attendance_sweep", "pending_sweep"):
            task = getattr(app.ctx, name, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

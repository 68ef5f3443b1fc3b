"""Member-days whose settlement failed: set aside with a back-off, listed for operators,
retried on demand."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from models.settlement import PendingSettlement
from services import localtime

log = logging.getLogger("realname.attendance")
# A day that could not be settled: (member id, day) → the error (type and message, no data).
_Failed = dict[tuple[int, dt.date], str]
PENDING_RETRY_FIRST_SECONDS = 60  # a day that failed is retried after 1 min, 2, 4, ... at most
PENDING_RETRY_MAX_SECONDS = 6 * 3600  # every 6 hours (and on ``realname settlement retry``)


def _retry_delay(attempts: int) -> dt.timedelta:
    """How long a member-day that failed ``attempts`` times is set aside."""
    seconds = PENDING_RETRY_FIRST_SECONDS * 2 ** min(max(attempts - 1, 0), 20)
    return dt.timedelta(seconds=min(seconds, PENDING_RETRY_MAX_SECONDS))


async def _set_aside_unmarked(project_id: int, failed: _Failed) -> None:
    """Record days that failed outside the pending pass (settle-on-read, the closed-day sweep,
    a supplement) as set-aside marks, so operators see them and they are retried."""
    now = localtime.now()
    for (member_id, day), error in failed.items():
        marks = await PendingSettlement.filter(member_id=member_id, day=day).values_list(
            "id", "attempts"
        )
        attempts = max((a for _, a in marks), default=0) + 1
        retry_at = now + _retry_delay(attempts)
        log.error(
            "settlement of member %s day %s failed, set aside until %s: %s",
            member_id,
            day.isoformat(),
            retry_at.isoformat(timespec="seconds"),
            error,
        )
        failure: dict[str, Any] = {
            "attempts": attempts,
            "error": error,
            "failed_at": now,
            "retry_at": retry_at,
        }
        if marks:
            await PendingSettlement.filter(id__in=[i for i, _ in marks]).update(**failure)
        else:
            await PendingSettlement.create(
                project_id=project_id, member_id=member_id, day=day, **failure
            )


async def failed_days(project_id: int | None = None) -> list[dict[str, Any]]:
    """The member-days set aside because their settlement failed (for operators), newest first:
    project, member, day, attempts, the last error, when it failed and when it is retried."""
    qs = PendingSettlement.filter(failed_at__not_isnull=True)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    rows = await qs.order_by("-failed_at", "member_id", "day").values(
        "project_id", "member_id", "day", "attempts", "error", "failed_at", "retry_at"
    )
    seen: set[tuple[int, dt.date]] = set()
    out = []
    for row in rows:
        key = (row["member_id"], row["day"])
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


async def retry_failed(member_id: int | None = None, day: dt.date | None = None) -> int:
    """Make set-aside member-days ready again now (all, one member's, or one member-day); they
    settle on the next pass. The number of marks released."""
    qs = PendingSettlement.filter(retry_at__not_isnull=True)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if day is not None:
        qs = qs.filter(day=day)
    return await qs.update(retry_at=None)

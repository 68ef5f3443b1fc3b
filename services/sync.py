"""Terminal person sync: every change to a member that terminals must learn bumps its version.

Versions are microsecond timestamps, so they grow across processes without coordination; a
terminal's cursor lags a few seconds behind "now" so a change committed late is not skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from models import ProjectMember
from services import caches

CURSOR_SAFETY_US = 5_000_000  # a change may commit up to this long after its version was taken


def next_version() -> int:
    """A new sync version (microseconds since the epoch)."""
    return time.time_ns() // 1000


async def mark_members_changed(member_ids: Iterable[int]) -> int:
    """Bump the sync version of these members (joined, left, face re-captured, team changed...)."""
    ids = list(set(member_ids))
    if not ids:
        return 0
    caches.forget_members()
    return await ProjectMember.filter(id__in=ids).update(sync_version=next_version())

"""This process's caches of database rows, in one module.

Each cache is short-lived (seconds) and filled by the module that reads it; they live here so that
one call forgets them all (``forget_all``: a new database, a test's fresh schema) and so that a
writer can drop one without importing the module that fills it (``services.sync`` clears the punch
pipeline's member rows; the pipeline depends on the rules, which depend on the member services).
"""

from __future__ import annotations

from typing import Any

# services.devices.cache: registry rows with their secret, by serial; projects by id; the monotonic
# time of the last contact write, by (device id, channel).
devices: dict[str, Any] = {}
projects: dict[int, tuple[Any, float]] = {}
contact_writes: dict[tuple[int, str], float] = {}
# services.ingest: the member rows the punch rules read, by (project id, person id).
members: dict[tuple[int, int], tuple[Any, float]] = {}
# services.attendance.clock: project time zones, by project id.
zones: dict[int, tuple[Any, float]] = {}


def forget_members() -> None:
    """Drop the cached member rows (after a member change in this process)."""
    members.clear()


def forget_all() -> None:
    """Drop every cached row of this process (a new database)."""
    for cache in (devices, projects, contact_writes, members, zones):
        cache.clear()

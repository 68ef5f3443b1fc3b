"""This process's caches: registry rows with their secrets, projects, contact writes.

``forget``/``forget_all`` drop them (after an admin change, for a new database).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from models import Device, Project
from realname.singleflight import SingleFlight
from services import caches, pii

DEVICE_CACHE_SECONDS = 2.0  # registry rows cached per process (admin changes also clear it)


@dataclass
class DeviceAuth:
    """A device resolved from the registry, with its plaintext secret (cached briefly)."""

    device: Device
    secret: bytes
    loaded_at: float


_cache: dict[str, DeviceAuth] = caches.devices
_last_contact_write: dict[tuple[int, str], float] = caches.contact_writes


def forget(sn: str) -> None:
    """Drop a device from this process's cache (after an admin change)."""
    _cache.pop(sn, None)
    _loading.forget(("device", sn))  # a read still running may predate the change


def forget_all() -> None:
    """Drop every cached registry row and project of this process (a new database)."""
    _cache.clear()
    _projects.clear()
    _last_contact_write.clear()
    _loading.clear()


# Reads of an expired entry running now, by (kind, key): the requests that miss together share
# one read instead of each reading the same row (every DEVICE_CACHE_SECONDS, all the requests in
# flight for a device missed at once: ~32 device reads, secret decryptions and project reads
# per device under load). A caller that goes away does not cancel the read for the others.
_loading: SingleFlight[tuple[str, Any], Any] = SingleFlight()
_T = TypeVar("_T")


async def _shared(key: tuple[str, Any], read: Callable[[], Awaitable[_T]]) -> _T:
    if isinstance(connections.get("default"), TransactionalDBClient):
        return await read()  # inside a caller's transaction: its own read, in it
    result: _T = await _loading.run(key, read)
    return result


async def load_device(sn: str) -> DeviceAuth | None:
    """The registered device with this serial (cached for a couple of seconds), or None."""
    cached = _cache.get(sn)
    if cached is not None and time.monotonic() - cached.loaded_at < DEVICE_CACHE_SECONDS:
        return cached
    return await _shared(("device", sn), lambda: _read_device(sn))


async def _read_device(sn: str) -> DeviceAuth | None:
    device = await Device.get_or_none(sn=sn)
    if device is None:
        _cache.pop(sn, None)
        return None
    secret = (pii.cipher().decrypt(device.secret_enc) or "").encode()
    auth = DeviceAuth(device, secret, time.monotonic())
    if len(_cache) > 50_000:
        _cache.clear()
    _cache[sn] = auth
    return auth


_projects: dict[int, tuple[Project, float]] = caches.projects


async def project_of(device: Device) -> Project:
    """The device's project (cached per process like the registry rows: the punch hot path
    needs only its time zone)."""
    project_id = device.bound_project_id
    cached = _projects.get(project_id)
    if cached is not None and time.monotonic() - cached[1] < DEVICE_CACHE_SECONDS:
        return cached[0]
    return await _shared(("project", project_id), lambda: _read_project(project_id))


async def _read_project(project_id: int) -> Project:
    project = await Project.get(id=project_id)
    if len(_projects) > 10_000:
        _projects.clear()
    _projects[project_id] = (project, time.monotonic())
    return project

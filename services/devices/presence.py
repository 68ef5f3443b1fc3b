"""Device contacts and online state: coalesced contact writes, the offline sweep (audited
transitions), serials seen without being registered."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from models import Device, UnregisteredDevice
from services import localtime
from services.devices.cache import _last_contact_write, forget

log = logging.getLogger("realname.devices")

ONLINE_WINDOW = dt.timedelta(minutes=5)  # online while the last contact is this recent
PRESENCE_SWEEP_SECONDS = 30.0  # how often devices gone quiet are audited as offline
CONTACT_WRITE_INTERVAL = 10.0  # seconds: last-contact writes are coalesced per device
ATTENDANCE_CHANNEL, COLLECTION_CHANNEL = "attendance", "collection"


async def touch(device: Device, channel: str, ip: str = "") -> None:
    """Record a contact (attendance or collection channel); writes coalesced per device.

    A device heard from again after being offline is audited once (``device.online``): the
    ``online_recorded`` flag is flipped by a conditional update, so one process records it.
    """
    key = (device.id, channel)
    mono = time.monotonic()
    field = "last_collection_at" if channel == COLLECTION_CHANNEL else "last_attendance_at"
    if (
        getattr(device, field) is not None
        and mono - _last_contact_write.get(key, 0.0) < CONTACT_WRITE_INTERVAL
    ):
        return
    _last_contact_write[key] = mono
    moment = localtime.now()
    setattr(device, field, moment)
    updates: dict[str, Any] = {field: moment}
    if ip:
        updates["last_seen_ip"] = ip[:64]
    if not device.online_recorded and await Device.filter(
        id=device.id, online_recorded=False
    ).update(online_recorded=True, **updates):
        device.online_recorded = True
        await _audit_presence(device, "device.online", ip)
        return
    await Device.filter(id=device.id).update(**updates)


def last_contact(device: Device) -> dt.datetime | None:
    """The latest contact on either channel."""
    return max(
        (t for t in (device.last_attendance_at, device.last_collection_at) if t), default=None
    )


async def _audit_presence(device: Device, action: str, ip: str = "", **detail: Any) -> None:
    from services import audit

    await audit.record(
        action,
        actor_kind="device",
        actor_id=device.sn,
        project_id=device.project_id,
        target=device.sn,
        detail=detail,
        ip=ip,
    )


async def sweep_presence(at: dt.datetime | None = None) -> int:
    """Audit ``device.offline`` for devices recorded online whose last contact is now older
    than ONLINE_WINDOW (each transition once, whichever process sweeps); returns how many."""
    cutoff = (at or localtime.now()) - ONLINE_WINDOW
    stale = (Q(last_attendance_at=None) | Q(last_attendance_at__lt=cutoff)) & (
        Q(last_collection_at=None) | Q(last_collection_at__lt=cutoff)
    )
    done = 0
    for device in await Device.filter(stale, online_recorded=True):
        if not await Device.filter(stale, id=device.id, online_recorded=True).update(
            online_recorded=False
        ):
            continue  # heard from again, or another process recorded it
        forget(device.sn)
        last = last_contact(device)
        await _audit_presence(
            device,
            "device.offline",
            last_contact=localtime.iso(last, localtime.zone(device.timezone)),
        )
        done += 1
    return done


def register_presence_sweep(app: Any) -> None:
    """Sweep device presence every PRESENCE_SWEEP_SECONDS in the app (not in tests, which call
    ``sweep_presence``)."""

    async def loop_sweep() -> None:
        while True:
            try:
                await sweep_presence()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep sweeping; the next run retries
                log.exception("device presence sweep failed")
            await asyncio.sleep(PRESENCE_SWEEP_SECONDS)

    @app.after_server_start
    async def _start(app: Any, _loop: Any = None) -> None:
        if getattr(app.ctx.settings, "env", "") != "test":
            app.ctx.presence_sweep = asyncio.get_running_loop().create_task(loop_sweep())

    @app.before_server_stop
    async def _stop(app: Any, _loop: Any = None) -> None:
        task = getattr(app.ctx, "presence_sweep", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def record_unregistered(sn: str, protocol: str, ip: str = "") -> None:
    """Remember a serial that called without being registered ("unregistered device seen")."""
    sn = sn[:64]
    updated = await UnregisteredDevice.filter(sn=sn).update(
        count=F("count") + 1, last_ip=ip[:64], last_seen=localtime.now(), protocol=protocol
    )
    if updated:
        return
    try:
        await UnregisteredDevice.create(sn=sn, protocol=protocol, last_ip=ip[:64])
    except IntegrityError:  # a concurrent first sighting
        await UnregisteredDevice.filter(sn=sn).update(count=F("count") + 1)


# --- registry --------------------------------------------------------------------------------


def is_online(device: Device, at: dt.datetime | None = None) -> bool:
    """Online when the device was heard from recently and is not forced offline."""
    if device.forced_offline:
        return False
    last = last_contact(device)
    return last is not None and (at or localtime.now()) - last <= ONLINE_WINDOW

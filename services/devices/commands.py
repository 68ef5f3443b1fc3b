"""The device command queue: queue, deliver (with re-send and expiry), acknowledge; heartbeats."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tortoise.expressions import F, Q

from models import CommandStatus, Device, DeviceCommand, UpgradeStatus
from realname import error_codes as E
from realname.errors import AppError, NotFound, ValidationError
from services import localtime
from services.devices.cache import forget
from services.devices.firmware import firmware_url, pick_firmware, report_firmware
from services.devices.registry import set_forced_offline
from services.schemas.device_protocol import MAX_COUNT

COMMAND_RETRY_AFTER = dt.timedelta(seconds=60)  # a delivered command not acked is re-sent after
COMMAND_TTL = dt.timedelta(hours=24)  # a command not done by then times out

COMMAND_TYPES = ("upgrade", "sync_persons", "force_offline", "upload_faces")


# --- commands --------------------------------------------------------------------------------


async def queue_command(
    device: Device,
    type_: str,
    params: dict[str, Any] | None = None,
    *,
    created_by: str = "",
    max_attempts: int = 3,
    ttl: dt.timedelta = COMMAND_TTL,
    firmware_owner: int | None = None,
) -> DeviceCommand:
    """Queue a command for a device; upgrade and force_offline also change the device's state.

    An upgrade uses a platform package or one of the enterprise ``firmware_owner`` (the
    enterprise giving the command), never another enterprise's."""
    params = dict(params or {})
    if type_ not in COMMAND_TYPES and type_ != "adms":
        raise ValidationError("指令类型无效", field="type")
    if type_ == "upgrade":
        pkg = await pick_firmware(device, params.get("version"), firmware_owner)
        url = await firmware_url(pkg, device, localtime.now() + ttl)
        params = {"version": pkg.version, "url": url, "sha256": pkg.sha256}
        device.target_firmware = pkg.version
        device.upgrade_status = (
            UpgradeStatus.UPGRADED if device.firmware == pkg.version else UpgradeStatus.UPGRADING
        )
        await device.save(update_fields=["target_firmware", "upgrade_status"])
    elif type_ == "sync_persons":
        params = {"full": bool(params.get("full", True))}
    elif type_ == "force_offline":
        await set_forced_offline(device, True)
    cmd = await DeviceCommand.create(
        device=device,
        project_id=device.project_id,
        type=type_,
        params=params,
        max_attempts=max(1, max_attempts),
        created_by=created_by,
        expires_at=localtime.now() + ttl,
    )
    forget(device.sn)
    return cmd


async def expire_commands(device_id: int | None = None) -> int:
    """Time out commands past their expiry and fail those delivered too often without an ack."""
    now = localtime.now()
    query = DeviceCommand.filter(status__in=[CommandStatus.PENDING, CommandStatus.SENT])
    if device_id is not None:
        query = query.filter(device_id=device_id)
    n = await query.filter(expires_at__lt=now).update(
        status=CommandStatus.TIMEOUT, finished_at=now, result="超时未完成"
    )
    stale = query.filter(
        status=CommandStatus.SENT,
        sent_at__lt=now - COMMAND_RETRY_AFTER,
        attempts__gte=F("max_attempts"),
    )
    n += await stale.update(status=CommandStatus.FAILED, finished_at=now, result="多次下发均未确认")
    return n


async def due_commands(
    device: Device, limit: int = 10, types: tuple[str, ...] | None = None
) -> list[DeviceCommand]:
    """Commands to deliver now (pending, or sent without an ack for a while); marks them sent."""
    await expire_commands(device.id)
    now = localtime.now()
    query = DeviceCommand.filter(device_id=device.id).filter(
        Q(project_id=device.project_id) | Q(project_id__isnull=True)
    )
    query = query.filter(
        Q(status=CommandStatus.PENDING)
        | Q(
            status=CommandStatus.SENT,
            sent_at__lt=now - COMMAND_RETRY_AFTER,
            attempts__lt=F("max_attempts"),
        )
    )
    if types:
        query = query.filter(type__in=list(types))
    cmds = await query.order_by("id").limit(limit)
    for cmd in cmds:
        cmd.attempts += 1
        cmd.status = CommandStatus.SENT
        cmd.sent_at = now
        await DeviceCommand.filter(id=cmd.id).update(
            attempts=cmd.attempts, status=CommandStatus.SENT, sent_at=now
        )
    return cmds


def command_public(cmd: DeviceCommand) -> dict[str, Any]:
    """A command as the device receives it."""
    return {"id": str(cmd.id), "type": cmd.type, "params": cmd.params}


def command_admin(cmd: DeviceCommand) -> dict[str, Any]:
    """A command with its delivery state, as the admin sees it."""
    return {
        "id": cmd.id,
        "type": cmd.type,
        "params": cmd.params,
        "status": str(cmd.status),
        "attempts": cmd.attempts,
        "max_attempts": cmd.max_attempts,
        "result": cmd.result,
        "created_by": cmd.created_by,
        "created_at": cmd.created_at,
        "sent_at": cmd.sent_at,
        "finished_at": cmd.finished_at,
        "expires_at": cmd.expires_at,
    }


async def ack_command(
    device: Device, command_id: str | int, ok: bool, message: str = "", firmware: str | None = None
) -> DeviceCommand:
    """A device's answer to a command; idempotent. A failure is retried until max_attempts."""
    try:
        cid = int(command_id)
    except (TypeError, ValueError):
        raise NotFound(code=E.COMMAND_NOT_FOUND.code) from None
    if not 0 < cid < 2**63:
        raise NotFound(code=E.COMMAND_NOT_FOUND.code)
    cmd = await DeviceCommand.get_or_none(id=cid, device_id=device.id)
    if cmd is None:
        raise NotFound(code=E.COMMAND_NOT_FOUND.code)
    if cmd.type == "upgrade" and firmware:
        await report_firmware(device, firmware)
    if cmd.status in (
        CommandStatus.DONE,
        CommandStatus.FAILED,
        CommandStatus.TIMEOUT,
        CommandStatus.CANCELED,
    ):
        return cmd  # already final: acks are idempotent
    now = localtime.now()
    if ok:
        cmd.status, cmd.finished_at = CommandStatus.DONE, now
    elif cmd.attempts >= cmd.max_attempts:
        cmd.status, cmd.finished_at = CommandStatus.FAILED, now
        if cmd.type == "upgrade" and device.upgrade_status == UpgradeStatus.UPGRADING:
            device.upgrade_status = UpgradeStatus.NONE
            await Device.filter(id=device.id).update(upgrade_status=UpgradeStatus.NONE)
    else:
        cmd.status = CommandStatus.PENDING  # retried on the next poll
    cmd.result = (message or ("ok" if ok else "failed"))[:500]
    await cmd.save(update_fields=["status", "finished_at", "result"])
    if cmd.type == "sync_persons" and ok and cmd.params.get("full"):
        pass  # the device re-fetched the full list itself (cursor kept by the device)
    return cmd


async def list_commands(device: Device, limit: int = 50) -> list[DeviceCommand]:
    """A device's most recent commands (their final states visible to the admin)."""
    await expire_commands(device.id)
    return await DeviceCommand.filter(device_id=device.id).order_by("-id").limit(limit)


async def heartbeat(device: Device, body: dict[str, Any]) -> list[DeviceCommand]:
    """Record a heartbeat's figures and return the commands to deliver with it."""
    updates: dict[str, Any] = {}
    for key, attr in (("persons", "person_count"), ("faces", "face_count")):
        value = body.get(key)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValidationError(f"{key} 应为非负整数", code=E.BAD_FIELD.code, field=key)
            if value > MAX_COUNT:
                raise ValidationError(
                    f"{key} 不能大于{MAX_COUNT}", code=E.BAD_FIELD.code, field=key
                )
            updates[attr] = value
    if updates:
        await Device.filter(id=device.id).update(**updates)
    firmware = body.get("firmware")
    if firmware is not None and not isinstance(firmware, str):
        raise ValidationError("firmware 应为字符串", code=E.BAD_FIELD.code, field="firmware")
    await report_firmware(device, firmware)
    if device.forced_offline:
        # A forced-offline device gets only its force_offline command, then every call is refused.
        cmds = await due_commands(device, types=("force_offline",))
        if not cmds:
            raise AppError("设备已被强制下线", code=E.DEVICE_OFFLINE_FORCED.code, status=403)
        return cmds
    return await due_commands(device)

"""Binding a device to a project and unbinding it: what was queued for the old project is
cancelled and the person sync restarts for the new one."""

from __future__ import annotations

from models import CommandStatus, Device, DeviceCommand, DeviceKind, Project
from models.devices import DevicePin
from realname import error_codes as E
from realname.errors import Conflict
from services import localtime
from services.devices.cache import forget
from services.devices.commands import COMMAND_TTL, queue_command


async def bind(device: Device, project: Project) -> Device:
    """Bind a device to a project (a bound device must be unbound first).

    Nothing queued for another project is delivered afterwards: its pending commands are
    cancelled, the person sync restarts for this project, and an ADMS terminal is told to delete
    the PINs the platform pushed for the old project (a native terminal drops its list).
    """
    if device.project_id not in (None, project.id):
        raise Conflict(code=E.DEVICE_BOUND.code)
    if device.project_id == project.id:
        return device
    await cancel_pending(device, "设备已绑定到其他项目，指令已取消")
    device.project = project
    device.sync_cursor = 0
    device.person_cursor = ""
    await device.save(update_fields=["project_id", "sync_cursor", "person_cursor"])
    forget(device.sn)
    if device.protocol == "adms":
        stale = await DevicePin.filter(device_id=device.id, active=True).exclude(
            project_id=project.id
        )
        expires = localtime.now() + COMMAND_TTL
        if stale:
            await DeviceCommand.bulk_create(
                [
                    DeviceCommand(
                        device_id=device.id,
                        project_id=project.id,
                        type="adms",
                        expires_at=expires,
                        params={"op": "delete", "pin": dp.pin},
                    )
                    for dp in stale
                ]
            )
            await DevicePin.filter(id__in=[dp.id for dp in stale]).update(active=False)
        await DevicePin.filter(device_id=device.id, project_id=project.id).update(version=0)
    elif device.kind != DeviceKind.COLLECTION:
        await queue_command(device, "sync_persons", {"full": True}, created_by="system:bind")
    return device


async def unbind(device: Device) -> Device:
    """Unbind a device from its project (it stops working until bound again); the commands
    queued for that project are cancelled."""
    await cancel_pending(device, "设备已解绑，指令已取消")
    device.project = None
    device.person_cursor = ""
    await device.save(update_fields=["project_id", "person_cursor"])
    forget(device.sn)
    return device


async def cancel_pending(device: Device, reason: str) -> int:
    """Cancel every command of a device not done yet (pending or delivered without an answer)."""
    return await DeviceCommand.filter(
        device_id=device.id, status__in=[CommandStatus.PENDING, CommandStatus.SENT]
    ).update(status=CommandStatus.CANCELED, finished_at=localtime.now(), result=reason)

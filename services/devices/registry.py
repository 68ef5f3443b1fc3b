"""The device registry: registering, settings, secrets, binding to projects, search."""

from __future__ import annotations

import ipaddress
import secrets as pysecrets
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from models import Device, DeviceKind, Project, UnregisteredDevice
from models.devices import DEVICE_KIND_LABELS, DIRECTION_MODES, UPGRADE_STATUS_LABELS
from realname import error_codes as E
from realname.errors import Conflict, NotFound, ValidationError
from services import pii
from services.devices.cache import forget
from services.devices.presence import is_online
from services.schemas.devices import DeviceSettings


def new_secret() -> str:
    """A fresh device secret (shown once)."""
    return pysecrets.token_urlsafe(32)


DIRECTION_MODE_LABELS = {
    "state": "按设备状态键",
    "fixed_in": "固定进场",
    "fixed_out": "固定出场",
    "auto": "自动（当日首次为进，之后交替）",
}


def device_public(device: Device, serial_no: int | None = None) -> dict[str, Any]:
    """A device as the admin list shows it (the manual's columns plus the raw fields)."""
    online = is_online(device)
    return {
        "序号": serial_no,
        "设备编码": device.sn,
        "设备状态": "在线" if online else ("强制下线" if device.forced_offline else "离线"),
        "设备厂商": device.manufacturer,
        "设备型号": device.model,
        "最后考勤通讯时间": device.last_attendance_at,
        "最后采集通讯时间": device.last_collection_at,
        "sn": device.sn,
        "kind": str(device.kind),
        "kind_label": DEVICE_KIND_LABELS.get(device.kind, str(device.kind)),
        "manufacturer": device.manufacturer,
        "model": device.model,
        "online": online,
        "forced_offline": device.forced_offline,
        "protocol": device.protocol,
        "antispoof": device.antispoof,
        "timezone": device.timezone,
        "firmware": device.firmware,
        "target_firmware": device.target_firmware,
        "upgrade_status": str(device.upgrade_status),
        "upgrade_status_label": UPGRADE_STATUS_LABELS.get(device.upgrade_status, ""),
        "persons": device.person_count,
        "faces": device.face_count,
        "direction_mode": device.direction_mode,
        "direction_mode_label": DIRECTION_MODE_LABELS.get(device.direction_mode, ""),
        "allowed_cidr": device.allowed_cidr,
        "last_ip": device.last_seen_ip,
        "network_warning": (
            {
                "network": device.network_alert,
                "at": device.network_alert_at,
                "message": f"设备从新的网络（{device.network_alert}）上报，请核实",
            }
            if device.network_alert
            else None
        ),
        "last_attendance_at": device.last_attendance_at,
        "last_collection_at": device.last_collection_at,
        "created_at": device.created_at,
    }


async def register_device(
    project: Project | None,
    *,
    kind: str,
    sn: str,
    manufacturer: str,
    model: str,
    antispoof: bool = False,
    protocol: str = "native",
    timezone: str = "Asia/Shanghai",
    enterprise_id: int | None = None,
    direction_mode: str = "state",
    allowed_cidr: str = "",
) -> tuple[Device, str]:
    """Register a device (bound to `project` when given); return it with its new secret."""
    sn = (sn or "").strip()
    if not sn or len(sn) > 64:
        raise ValidationError("请填写设备编码（不超过64个字符）", code=E.REQUIRED.code, field="sn")
    try:
        kind = DeviceKind(kind)
    except ValueError:
        raise ValidationError("设备类型无效", field="kind") from None
    if protocol not in ("native", "adms"):
        raise ValidationError("协议应为 native 或 adms", field="protocol")
    _check_timezone(timezone)
    direction_mode = check_direction_mode(direction_mode)
    allowed_cidr = check_cidr(allowed_cidr)
    if await Device.exists(sn=sn):
        raise Conflict(code=E.DEVICE_EXISTS.code)
    secret = new_secret()
    try:
        device = await Device.create(
            sn=sn,
            kind=kind,
            manufacturer=(manufacturer or "").strip()[:64],
            model=(model or "").strip()[:64],
            project=project,
            enterprise_id=enterprise_id,
            secret_enc=pii.cipher().encrypt(secret),
            antispoof=bool(antispoof),
            protocol=protocol,
            timezone=timezone,
            direction_mode=direction_mode,
            allowed_cidr=allowed_cidr,
        )
    except IntegrityError:
        raise Conflict(code=E.DEVICE_EXISTS.code) from None
    await UnregisteredDevice.filter(sn=sn).delete()
    forget(sn)
    return device, secret


def check_direction_mode(value: Any) -> str:
    """A device's direction mode (``state`` when not given)."""
    mode = str(value or "state").strip()
    if mode not in DIRECTION_MODES:
        raise ValidationError(
            "进出方向模式应为 state、fixed_in、fixed_out 或 auto", field="direction_mode"
        )
    return mode


def check_cidr(value: Any) -> str:
    """An allowed source network (``203.0.113.0/24``, a single address, or "" for any)."""
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise ValidationError(
            "允许的来源网段格式错误（如 203.0.113.0/24）", field="allowed_cidr"
        ) from None


async def update_settings(device: Device, body: DeviceSettings) -> Device:
    """Change a device's direction mode, allowed source network, time zone or anti-spoofing: only
    the fields sent (the schema checked the mode's choices and the lengths; a mode sent null is
    ``state``, a network sent null or empty is any)."""
    sent = body.model_fields_set
    updates: dict[str, Any] = {}
    if "direction_mode" in sent:
        updates["direction_mode"] = body.direction_mode or "state"
    if "allowed_cidr" in sent:
        updates["allowed_cidr"] = check_cidr(body.allowed_cidr)
    if "timezone" in sent:
        _check_timezone(body.timezone or "")
        updates["timezone"] = body.timezone
    if "antispoof" in sent:
        if body.antispoof is None:
            raise ValidationError("antispoof 应为 true 或 false", field="antispoof")
        updates["antispoof"] = body.antispoof
    if updates:
        for key, value in updates.items():
            setattr(device, key, value)
        await device.save(update_fields=list(updates))
        forget(device.sn)
    return device


async def clear_network_alert(device: Device) -> Device:
    """An admin checked the new network a terminal reported from: the warning goes away."""
    device.network_alert, device.network_alert_at = "", None
    await device.save(update_fields=["network_alert", "network_alert_at"])
    forget(device.sn)
    return device


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("时区无效", field="timezone") from None


async def rotate_secret(device: Device) -> str:
    """Issue a new secret for a device (the old one stops working at once)."""
    secret = new_secret()
    device.secret_enc = pii.cipher().encrypt(secret) or ""
    await device.save(update_fields=["secret_enc"])
    forget(device.sn)
    return secret


async def set_forced_offline(device: Device, forced: bool) -> Device:
    """Force a device offline, or let it back online."""
    device.forced_offline = forced
    await device.save(update_fields=["forced_offline"])
    forget(device.sn)
    return device


async def search_devices(
    project: Project,
    *,
    kind: str | None = None,
    q: str | None = None,
    manufacturer: str | None = None,
    offset: int = 0,
    limit: int = 10,
) -> tuple[list[Device], int]:
    """A project's devices, filtered by kind and by manufacturer or code (设备编码/厂商)."""
    query = Device.filter(project_id=project.id)
    if kind:
        query = query.filter(kind=kind)
    if manufacturer:
        query = query.filter(manufacturer__icontains=manufacturer.strip())
    if q:
        q = q.strip()
        query = query.filter(
            Q(sn__icontains=q) | Q(manufacturer__icontains=q) | Q(model__icontains=q)
        )
    total = await query.count()
    rows = await query.order_by("-id").offset(offset).limit(limit)
    return rows, total


async def project_device(project: Project, sn: str) -> Device:
    """One device of a project, or NotFound."""
    device = await Device.get_or_none(project_id=project.id, sn=sn)
    if device is None:
        raise NotFound("设备不存在或未绑定本项目", code=E.DEVICE_NOT_FOUND.code)
    return device


async def unregistered_seen(limit: int = 100) -> list[dict[str, Any]]:
    """Serials that called without being registered, most recent first."""
    rows = await UnregisteredDevice.all().order_by("-last_seen").limit(limit)
    return [
        {
            "sn": r.sn,
            "protocol": r.protocol,
            "first_seen": r.first_seen,
            "last_seen": r.last_seen,
            "count": r.count,
            "last_ip": r.last_ip,
        }
        for r in rows
    ]

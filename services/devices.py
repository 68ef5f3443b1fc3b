"""Devices: registry, secrets, request signing, online state, the command queue and upgrades.

The native protocol (``devices/``) and the ZKTeco ADMS adapter (``devices/adms/``) both call these
functions; the admin API (``admin_api/devices.py``) manages the same records.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import secrets as pysecrets
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from models import (
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceKind,
    FirmwarePackage,
    Project,
    UnregisteredDevice,
    UpgradeStatus,
)
from models.devices import (
    DEVICE_KIND_LABELS,
    DIRECTION_MODES,
    UPGRADE_STATUS_LABELS,
    DevicePin,
    SuspiciousContact,
)
from realname.errors import AppError, Conflict, NotFound, ValidationError
from services import localtime, pii

log = logging.getLogger("realname.devices")

# --- error codes of the contract ----------------------------------------------------------------
BAD_SIGNATURE = "bad_signature"
SIGNATURE_EXPIRED = "signature_expired"
REPLAYED_NONCE = "replayed_nonce"
DEVICE_UNKNOWN = "device_unknown"
DEVICE_UNBOUND = "device_unbound"
DEVICE_OFFLINE_FORCED = "device_offline_forced"

ONLINE_WINDOW = dt.timedelta(minutes=5)  # online while the last contact is this recent
PRESENCE_SWEEP_SECONDS = 30.0  # how often devices gone quiet are audited as offline
CONTACT_WRITE_INTERVAL = 10.0  # seconds: last-contact writes are coalesced per device
COMMAND_RETRY_AFTER = dt.timedelta(seconds=60)  # a delivered command not acked is re-sent after
COMMAND_TTL = dt.timedelta(hours=24)  # a command not done by then times out
DEVICE_CACHE_SECONDS = 2.0  # registry rows cached per process (admin changes also clear it)

COMMAND_TYPES = ("upgrade", "sync_persons", "force_offline", "upload_faces")
ATTENDANCE_CHANNEL, COLLECTION_CHANNEL = "attendance", "collection"


@dataclass
class DeviceAuth:
    """A device resolved from the registry, with its plaintext secret (cached briefly)."""

    device: Device
    secret: bytes
    loaded_at: float


_cache: dict[str, DeviceAuth] = {}
_last_contact_write: dict[tuple[int, str], float] = {}


def forget(sn: str) -> None:
    """Drop a device from this process's cache (after an admin change)."""
    _cache.pop(sn, None)


def forget_all() -> None:
    """Drop every cached registry row and project of this process (a new database)."""
    _cache.clear()
    _projects.clear()
    _last_contact_write.clear()


def new_secret() -> str:
    """A fresh device secret (shown once)."""
    return pysecrets.token_urlsafe(32)


def now_utc() -> dt.datetime:
    """The current moment (aware, UTC)."""
    return dt.datetime.now(dt.UTC)


# --- signing ---------------------------------------------------------------------------------


def body_digest(body: bytes) -> str:
    """SHA-256 hex of a request body (the empty body hashes the empty string)."""
    return hashlib.sha256(body or b"").hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(body)`` as bytes."""
    return "\n".join([method.upper(), path, timestamp, nonce, body_digest(body)]).encode()


def sign(
    secret: str | bytes, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The lowercase hex HMAC-SHA256 signature of a request."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(
        key, string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def signed_headers(
    sn: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four signing headers for a request (simulator, tests, benchmarks)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or pysecrets.token_hex(16)
    return {
        "X-Device-SN": sn,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": sign(secret, method, path, ts, nonce, body),
    }


async def load_device(sn: str) -> DeviceAuth | None:
    """The registered device with this serial (cached for a couple of seconds), or None."""
    cached = _cache.get(sn)
    if cached is not None and time.monotonic() - cached.loaded_at < DEVICE_CACHE_SECONDS:
        return cached
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


_projects: dict[int, tuple[Project, float]] = {}


async def project_of(device: Device) -> Project:
    """The device's project (cached per process like the registry rows: the punch hot path
    needs only its time zone)."""
    project_id: int = device.project_id  # type: ignore[attr-defined]
    cached = _projects.get(project_id)
    if cached is not None and time.monotonic() - cached[1] < DEVICE_CACHE_SECONDS:
        return cached[0]
    project = await Project.get(id=project_id)
    if len(_projects) > 10_000:
        _projects.clear()
    _projects[project_id] = (project, time.monotonic())
    return project


async def verify_request(
    redis: Any,
    *,
    sn: str,
    timestamp: str,
    nonce: str,
    signature: str,
    method: str,
    path: str,
    body: bytes,
    clock_window: int,
    nonce_ttl: int,
    ip: str = "",
    allow_forced: bool = False,
) -> Device:
    """Check a native request's identity, signature, clock and nonce; return its bound device."""
    if not sn:
        raise AppError("缺少设备编码", code=BAD_SIGNATURE, status=401, field="X-Device-SN")
    if len(sn) > 64 or not sn.isascii():  # no serial can be like this (Device.sn is 64 chars)
        raise AppError("设备未登记", code=DEVICE_UNKNOWN, status=403, field="X-Device-SN")
    auth = await load_device(sn)
    if auth is None:
        await record_unregistered(sn, "native", ip)
        raise AppError("设备未登记", code=DEVICE_UNKNOWN, status=403)
    if not timestamp or not nonce or not signature:
        missing = next(
            h
            for h, v in (("X-Timestamp", timestamp), ("X-Nonce", nonce), ("X-Signature", signature))
            if not v
        )
        raise AppError("缺少签名信息", code=BAD_SIGNATURE, status=401, field=missing)
    if not 16 <= len(nonce) <= 64 or not nonce.isascii():
        raise AppError("随机串长度应为16–64个字符", code=BAD_SIGNATURE, status=401, field="X-Nonce")
    if not signature.isascii():  # hmac.compare_digest refuses non-ASCII text
        raise AppError("签名错误", code=BAD_SIGNATURE, status=401, field="X-Signature")
    expected = sign(auth.secret, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise AppError("签名错误", code=BAD_SIGNATURE, status=401)
    server_time = int(time.time())
    try:
        skew = abs(server_time - int(timestamp))
    except ValueError:
        raise AppError(
            "时间戳格式错误", code=BAD_SIGNATURE, status=401, field="X-Timestamp"
        ) from None
    if skew > clock_window:
        raise AppError(
            "设备时钟与服务器相差过大，请校准时间",
            code=SIGNATURE_EXPIRED,
            status=401,
            extra={"server_time": server_time},
        )
    # Nonces are remembered longer than the clock window, so a replay is always caught.
    fresh = await redis.set(
        f"dev:nonce:{auth.device.id}:{nonce}", b"1", nx=True, ex=max(nonce_ttl, 2 * clock_window)
    )
    if not fresh:
        raise AppError("请求已使用过（随机串重复）", code=REPLAYED_NONCE, status=401)
    device = auth.device
    if device.project_id is None:  # type: ignore[attr-defined]
        raise AppError("设备未绑定项目", code=DEVICE_UNBOUND, status=403)
    if device.forced_offline and not allow_forced:
        raise AppError("设备已被强制下线", code=DEVICE_OFFLINE_FORCED, status=403)
    return device


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
    moment = now_utc()
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
        project_id=device.project_id,  # type: ignore[attr-defined]
        target=device.sn,
        detail=detail,
        ip=ip,
    )


async def sweep_presence(at: dt.datetime | None = None) -> int:
    """Audit ``device.offline`` for devices recorded online whose last contact is now older
    than ONLINE_WINDOW (each transition once, whichever process sweeps); returns how many."""
    cutoff = (at or now_utc()) - ONLINE_WINDOW
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
        count=F("count") + 1, last_ip=ip[:64], last_seen=now_utc(), protocol=protocol
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
    return last is not None and (at or now_utc()) - last <= ONLINE_WINDOW


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
        raise ValidationError("请填写设备编码（不超过64个字符）", code="required", field="sn")
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
        raise Conflict("该设备编码已登记", code="device_exists")
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
        raise Conflict("该设备编码已登记", code="device_exists") from None
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


SETTING_KEYS = ("direction_mode", "allowed_cidr", "timezone", "antispoof")


async def update_settings(device: Device, body: dict[str, Any]) -> Device:
    """Change a device's direction mode, allowed source network or time zone."""
    updates: dict[str, Any] = {}
    if "direction_mode" in body:
        updates["direction_mode"] = check_direction_mode(body["direction_mode"])
    if "allowed_cidr" in body:
        updates["allowed_cidr"] = check_cidr(body["allowed_cidr"])
    if "timezone" in body:
        _check_timezone(str(body["timezone"] or ""))
        updates["timezone"] = str(body["timezone"])
    if "antispoof" in body:
        if not isinstance(body["antispoof"], bool):
            raise ValidationError("antispoof 应为 true 或 false", field="antispoof")
        updates["antispoof"] = body["antispoof"]
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


async def bind(device: Device, project: Project) -> Device:
    """Bind a device to a project (a bound device must be unbound first).

    Nothing queued for another project is delivered afterwards: its pending commands are
    cancelled, the person sync restarts for this project, and an ADMS terminal is told to delete
    the PINs the platform pushed for the old project (a native terminal drops its list).
    """
    if device.project_id not in (None, project.id):  # type: ignore[attr-defined]
        raise Conflict("设备已绑定其他项目，请先解绑", code="device_bound")
    if device.project_id == project.id:  # type: ignore[attr-defined]
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
        expires = now_utc() + COMMAND_TTL
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
    ).update(status=CommandStatus.CANCELED, finished_at=now_utc(), result=reason)


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
        raise NotFound("设备不存在或未绑定本项目", code="device_not_found")
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


# --- firmware and upgrades ---------------------------------------------------------------------


async def add_firmware(
    *,
    kind: str,
    manufacturer: str,
    version: str,
    url: str,
    sha256: str,
    enterprise_id: int | None = None,
) -> FirmwarePackage:
    """Register a firmware/app package (version, download URL and SHA-256).

    ``enterprise_id``: the registering enterprise owns it; None: the platform operator's."""
    try:
        kind = DeviceKind(kind)
    except ValueError:
        raise ValidationError("设备类型无效", field="kind") from None
    if not version or len(version) > 32:
        raise ValidationError("请填写版本号", code="required", field="version")
    if not url or not url.startswith(("http://", "https://", "/")):
        raise ValidationError("请填写安装包下载地址", code="required", field="url")
    sha = (sha256 or "").strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValidationError("SHA-256 应为64位十六进制", field="sha256")
    try:
        return await FirmwarePackage.create(
            kind=kind,
            manufacturer=manufacturer or "",
            version=version,
            url=url,
            sha256=sha,
            enterprise_id=enterprise_id,
        )
    except IntegrityError:
        raise Conflict("该版本已登记", code="firmware_exists") from None


FIRMWARE_EXTENSIONS = (
    ".bin",
    ".img",
    ".zip",
    ".apk",
    ".tar",
    ".gz",
    ".tgz",
    ".pkg",
    ".upg",
    ".ipk",
)


async def add_firmware_file(
    *,
    kind: str,
    manufacturer: str,
    version: str,
    data: bytes,
    filename: str,
    store: Any,
    sha256: str = "",
    enterprise_id: int | None = None,
) -> FirmwarePackage:
    """Register an uploaded firmware/app package: stored in the file store, its SHA-256 computed
    here (a SHA-256 given by the uploader must match it); devices get a signed URL to it."""
    try:
        kind = DeviceKind(kind)
    except ValueError:
        raise ValidationError("设备类型无效", field="kind") from None
    if not version or len(version) > 32:
        raise ValidationError("请填写版本号", code="required", field="version")
    if not data:
        raise ValidationError("请上传安装包文件", code="required", field="file")
    digest = hashlib.sha256(data).hexdigest()
    given = (sha256 or "").strip().lower()
    if given and given != digest:
        raise ValidationError("安装包文件与填写的 SHA-256 不一致", field="sha256")
    if await FirmwarePackage.exists(kind=kind, manufacturer=manufacturer or "", version=version):
        raise Conflict("该版本已登记", code="firmware_exists")
    suffix = next((e for e in FIRMWARE_EXTENSIONS if filename.lower().endswith(e)), ".bin")
    key = await store.put(
        data, prefix="firmware", suffix=suffix, content_type="application/octet-stream"
    )
    try:
        return await FirmwarePackage.create(
            kind=kind,
            manufacturer=manufacturer or "",
            version=version,
            url="",
            sha256=digest,
            file_key=key,
            size=len(data),
            enterprise_id=enterprise_id,
        )
    except IntegrityError:
        raise Conflict("该版本已登记", code="firmware_exists") from None


def firmware_signature(secret: bytes, package_id: int, sn: str, expires: int) -> str:
    """The signature of a device's firmware download URL (keyed by that device's secret)."""
    msg = f"firmware\n{package_id}\n{sn}\n{expires}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


async def firmware_url(pkg: FirmwarePackage, device: Device, expires: dt.datetime) -> str:
    """Where a device downloads a package: the registered URL, or for an uploaded file a signed
    path on this API valid until ``expires`` and only for this device."""
    if not pkg.file_key:
        return pkg.url
    auth = await load_device(device.sn)
    if auth is None:
        raise NotFound("设备不存在", code="device_not_found")
    until = int(expires.timestamp())
    sig = firmware_signature(auth.secret, pkg.id, device.sn, until)
    return f"/device/v1/firmware/{pkg.id}?sn={quote(device.sn)}&expires={until}&sig={sig}"


async def firmware_download(package_id: int, sn: str, expires: str, sig: str, store: Any) -> bytes:
    """The bytes of an uploaded package for a signed URL (refused when expired or forged)."""
    auth = await load_device(sn) if sn else None
    try:
        until = int(expires)
    except ValueError:
        until = 0
    if (
        auth is None
        or until < time.time()
        or not hmac.compare_digest(
            firmware_signature(auth.secret, package_id, sn, until), (sig or "").lower()
        )
    ):
        raise AppError("下载地址无效或已过期", code="bad_signature", status=403)
    pkg = await FirmwarePackage.get_or_none(id=package_id)
    if pkg is None or not pkg.file_key:
        raise NotFound("安装包不存在", code="firmware_not_found")
    return cast(bytes, await store.get(pkg.file_key))


def firmware_public(pkg: FirmwarePackage) -> dict[str, Any]:
    """A firmware package as the admin sees it."""
    return {
        "id": pkg.id,
        "kind": str(pkg.kind),
        "manufacturer": pkg.manufacturer,
        "version": pkg.version,
        "url": pkg.url,
        "sha256": pkg.sha256,
        "uploaded": bool(pkg.file_key),
        "size": pkg.size,
        "owner": "platform" if pkg.enterprise_id is None else "enterprise",  # type: ignore[attr-defined]
        "created_at": pkg.created_at,
    }


async def visible_firmware(enterprise_id: int | None, operator: bool) -> list[FirmwarePackage]:
    """The packages a caller may see: the operator all; an enterprise its own and the platform's."""
    query = FirmwarePackage.all()
    if not operator:
        query = query.filter(Q(enterprise_id=None) | Q(enterprise_id=enterprise_id))
    return await query.order_by("-id")


async def pick_firmware(
    device: Device, version: str | None, owner: int | None = None
) -> FirmwarePackage:
    """The package to upgrade a device to: the named version, else the newest for its kind;
    only the platform's packages and those of the enterprise `owner`."""
    query = FirmwarePackage.filter(kind=device.kind).filter(
        Q(manufacturer="") | Q(manufacturer=device.manufacturer)
    )
    query = query.filter(
        Q(enterprise_id=None) | Q(enterprise_id=owner) if owner else Q(enterprise_id=None)
    )
    if version:
        query = query.filter(version=version)
    pkg = await query.order_by("-id").first()
    if pkg is None:
        raise NotFound("没有可用的升级包", code="firmware_not_found")
    return pkg


async def report_firmware(device: Device, firmware: str | None) -> None:
    """A device reported its firmware version: move its upgrade status accordingly."""
    if not firmware:
        return
    firmware = str(firmware)[:32]
    updates: dict[str, Any] = {}
    if firmware != device.firmware:
        updates["firmware"] = firmware
    if (
        device.target_firmware
        and firmware == device.target_firmware
        and device.upgrade_status != UpgradeStatus.UPGRADED
    ):
        updates["upgrade_status"] = UpgradeStatus.UPGRADED
    if updates:
        for k, v in updates.items():
            setattr(device, k, v)
        await Device.filter(id=device.id).update(**updates)
        forget(device.sn)


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
        url = await firmware_url(pkg, device, now_utc() + ttl)
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
        project_id=device.project_id,  # type: ignore[attr-defined]
        type=type_,
        params=params,
        max_attempts=max(1, max_attempts),
        created_by=created_by,
        expires_at=now_utc() + ttl,
    )
    forget(device.sn)
    return cmd


async def expire_commands(device_id: int | None = None) -> int:
    """Time out commands past their expiry and fail those delivered too often without an ack."""
    now = now_utc()
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
    now = now_utc()
    query = DeviceCommand.filter(device_id=device.id).filter(
        Q(project_id=device.project_id) | Q(project_id__isnull=True)  # type: ignore[attr-defined]
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
        raise NotFound("指令不存在", code="command_not_found") from None
    if not 0 < cid < 2**63:
        raise NotFound("指令不存在", code="command_not_found")
    cmd = await DeviceCommand.get_or_none(id=cid, device_id=device.id)
    if cmd is None:
        raise NotFound("指令不存在", code="command_not_found")
    if cmd.type == "upgrade" and firmware:
        await report_firmware(device, firmware)
    if cmd.status in (
        CommandStatus.DONE,
        CommandStatus.FAILED,
        CommandStatus.TIMEOUT,
        CommandStatus.CANCELED,
    ):
        return cmd  # already final: acks are idempotent
    now = now_utc()
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
                raise ValidationError(f"{key} 应为非负整数", code="bad_field", field=key)
            updates[attr] = value
    if updates:
        await Device.filter(id=device.id).update(**updates)
    firmware = body.get("firmware")
    if firmware is not None and not isinstance(firmware, str):
        raise ValidationError("firmware 应为字符串", code="bad_field", field="firmware")
    await report_firmware(device, firmware)
    if device.forced_offline:
        # A forced-offline device gets only its force_offline command, then every call is refused.
        cmds = await due_commands(device, types=("force_offline",))
        if not cmds:
            raise AppError("设备已被强制下线", code=DEVICE_OFFLINE_FORCED, status=403)
        return cmds
    return await due_commands(device)


# --- ADMS (ZKTeco PUSH) -------------------------------------------------------------------

ADMS_DELTA_PAGE = 50
ADMS_COMMANDS_PER_POLL = 20  # commands delivered by one getrequest (LF separated)
ADMS_REPLY_BYTES = 1024 * 1024  # ... within this many bytes (face photos are large)
ADMS_MAX_COUNT = 10_000_000  # a UserCount/FaceCount beyond this is not a terminal's
NETWORK_HISTORY = 20  # networks remembered per ADMS terminal

# Why /iclock refuses or flags a contact (recorded in ``suspicious_contact``).
NATIVE_ON_ADMS, SOURCE_NOT_ALLOWED, NEW_NETWORK = (
    "native_on_adms",
    "source_not_allowed",
    "new_network",
)
SUSPICIOUS_LABELS = {
    NATIVE_ON_ADMS: "签名设备的编码出现在 ADMS 接口",
    SOURCE_NOT_ALLOWED: "来源网络不在允许网段内",
    NEW_NETWORK: "设备从新的网络上报",
}


def network_of(ip: str) -> str | None:
    """The network an address belongs to for change detection (IPv4 /24, IPv6 /64)."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def ip_allowed(ip: str, cidr: str) -> bool:
    """Whether a peer address lies in a device's allowed source network."""
    try:
        return ipaddress.ip_address(ip.strip()) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


async def record_suspicious(
    sn: str, device_id: int | None, reason: str, ip: str, path: str, protocol: str = "adms"
) -> None:
    """Remember a refused or flagged contact (one row per serial, reason and address)."""
    sn, ip, path = sn[:64], ip[:64], path[:200]
    updated = await SuspiciousContact.filter(sn=sn, reason=reason, ip=ip).update(
        count=F("count") + 1, last_seen=now_utc(), path=path
    )
    if updated:
        return
    try:
        await SuspiciousContact.create(
            sn=sn, device_id=device_id, reason=reason, ip=ip, path=path, protocol=protocol
        )
    except IntegrityError:  # a concurrent first sighting
        await SuspiciousContact.filter(sn=sn, reason=reason, ip=ip).update(count=F("count") + 1)


def suspicious_public(row: SuspiciousContact) -> dict[str, Any]:
    """A suspicious contact as the admin sees it."""
    return {
        "sn": row.sn,
        "protocol": row.protocol,
        "reason": row.reason,
        "reason_label": SUSPICIOUS_LABELS.get(row.reason, row.reason),
        "ip": row.ip,
        "path": row.path,
        "count": row.count,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
    }


async def suspicious_contacts(sn: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Refused or flagged contacts, most recent first (one device's when ``sn`` is given)."""
    query = SuspiciousContact.all() if sn is None else SuspiciousContact.filter(sn=sn)
    return [suspicious_public(r) for r in await query.order_by("-last_seen").limit(limit)]


async def adms_refusal(device: Device, peer: str, path: str) -> str | None:
    """Why ``/iclock`` refuses this terminal's contact (recorded as suspicious), or None.

    ``/iclock`` has no signature: it serves only devices registered for ADMS, and only from
    their allowed source network (checked against the socket peer) when one is set. A report
    from a network not seen before is served but raises a warning for the admin.
    """
    if device.protocol != "adms":
        await record_suspicious(device.sn, device.id, NATIVE_ON_ADMS, peer, path, device.protocol)
        return "device not registered for ADMS"
    if device.allowed_cidr and not ip_allowed(peer, device.allowed_cidr):
        await record_suspicious(device.sn, device.id, SOURCE_NOT_ALLOWED, peer, path)
        return "source network not allowed"
    await note_network(device, peer, path)
    return None


async def note_network(device: Device, ip: str, path: str = "") -> None:
    """Remember the network an ADMS terminal reports from; a new one (after the first) raises
    the admin warning and is recorded as a suspicious contact."""
    net = network_of(ip)
    if net is None or net in (device.known_networks or []):
        return
    fresh = await Device.get_or_none(id=device.id)
    if fresh is None:
        return
    known = list(fresh.known_networks or [])
    updates: dict[str, Any] = {"last_seen_ip": ip[:64]}
    if net not in known:
        updates["known_networks"] = (known + [net])[-NETWORK_HISTORY:]
        if known:
            updates["network_alert"] = net
            updates["network_alert_at"] = now_utc()
            await record_suspicious(device.sn, device.id, NEW_NETWORK, ip, path)
    else:
        updates["known_networks"] = known
    await Device.filter(id=device.id).update(**updates)
    for key, value in updates.items():
        setattr(device, key, value)
    forget(device.sn)


def _adms_clean(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")


async def _adms_queue_delta(device: Device) -> int:
    """Turn the person delta since the device's cursor into USERINFO/BIOPHOTO/DELETE commands.

    One change of a member queues one USERINFO+BIOPHOTO pair (``DevicePin.version`` remembers
    the version queued, so rows the cursor re-reads near "now" queue nothing) and cancels the
    member's older commands not delivered yet. A DELETE is queued only for a PIN the platform
    itself pushed to this terminal, never for terminal-local users (the administrator PIN=1).
    """
    from services import enrolment

    project_id: int = device.project_id  # type: ignore[attr-defined]
    rows, cursor, _more = await enrolment.person_delta(
        project_id, device.person_cursor or None, ADMS_DELTA_PAGE
    )
    pins = (
        {
            dp.pin: dp
            for dp in await DevicePin.filter(device_id=device.id, pin__in=[m.id for m, _ in rows])
        }
        if rows
        else {}
    )
    expires = now_utc() + COMMAND_TTL
    cmds: list[DeviceCommand] = []
    new_pins: list[DevicePin] = []
    changed: list[DevicePin] = []
    for member, person in rows:
        dp = pins.get(member.id)
        version = member.sync_version
        if dp is not None and dp.project_id == project_id and dp.version >= version:
            continue  # this change was queued already
        active = enrolment.person_entry(member, person)["active"]
        base = {"pin": member.id, "person_id": person.id}
        if active:
            ops = (
                ["userinfo", "authorize", "biophoto"]
                if device.push_dialect == "acc"
                else ["userinfo", "biophoto"]
            )
        elif dp is not None and dp.active:
            ops = ["delete"]
        else:
            continue  # never pushed by the platform: not ours to delete
        cmds += [
            DeviceCommand(
                device_id=device.id,
                project_id=project_id,
                type="adms",
                expires_at=expires,
                params={**base, "op": op},
            )
            for op in ops
        ]
        if dp is None:
            new_pins.append(
                DevicePin(
                    device_id=device.id, pin=member.id, project_id=project_id, version=version
                )
            )
        else:
            dp.project_id, dp.version, dp.active = project_id, version, active
            changed.append(dp)
    if cmds:
        await _cancel_superseded(device, {int(c.params["pin"]) for c in cmds})
        await DeviceCommand.bulk_create(cmds)
    if new_pins:
        await DevicePin.bulk_create(new_pins, ignore_conflicts=True)
    for dp in changed:
        await DevicePin.filter(id=dp.id).update(
            project_id=dp.project_id, version=dp.version, active=dp.active
        )
    if cursor != device.person_cursor:
        device.person_cursor = cursor
        await Device.filter(id=device.id).update(person_cursor=cursor)
        forget(device.sn)
    return len(cmds)


async def _cancel_superseded(device: Device, pins: set[int]) -> None:
    """Cancel the person commands of these PINs not delivered yet (a newer change replaces them)."""
    waiting = await DeviceCommand.filter(
        device_id=device.id, type="adms", status=CommandStatus.PENDING
    ).values_list("id", "params")
    stale = [cid for cid, params in waiting if int((params or {}).get("pin") or 0) in pins]
    if stale:
        await DeviceCommand.filter(id__in=stale, status=CommandStatus.PENDING).update(
            status=CommandStatus.CANCELED, finished_at=now_utc(), result="已被更新的人员变更取代"
        )


async def _adms_member(device: Device, pin: Any) -> tuple[Any, Any] | None:
    """(member, person) of a PIN still active on the device's current project, else None."""
    from models import Person, ProjectMember, WorkStatus

    try:
        member_id = int(pin)
    except (TypeError, ValueError):
        return None
    member = await ProjectMember.get_or_none(
        id=member_id,
        project_id=device.project_id,  # type: ignore[attr-defined]
        work_status=WorkStatus.ACTIVE,
    )
    if member is None:
        return None
    person = await Person.get_or_none(id=member.person_id)  # type: ignore[attr-defined]
    return None if person is None else (member, person)


async def _adms_payload(device: Device, cmd: DeviceCommand, store: Any) -> str | None:
    """The ADMS text of a queued command (None: not deliverable over ADMS, failed).

    Person data is read at delivery and only for a member of the device's current project.
    Access-control firmware (``acc``) takes the Security PUSH tables (``user``,
    ``userauthorize``, ``biophoto``) instead of ``USERINFO``/``BIOPHOTO``.
    """
    p = cmd.params
    if cmd.type == "adms":
        op = p.get("op")
        pin = int(p.get("pin") or 0)
        acc = device.push_dialect == "acc"
        if op == "delete":
            return f"DATA DELETE user Pin={pin}" if acc else f"DATA DELETE USERINFO PIN={pin}"
        if op == "authorize":
            # door 1 in time zone 1 (always): the verification opens the gate and is logged
            return f"DATA UPDATE userauthorize Pin={pin}\tAuthorizeTimezoneId=1\tAuthorizeDoorId=1"
        if op in ("userinfo", "biophoto"):
            found = await _adms_member(device, pin)
            if found is None:
                return None
            _member, person = found
            if op == "userinfo" and acc:
                return (
                    f"DATA UPDATE user CardNo=\tPin={pin}\tPassword=\tGroup=0\tStartTime=0"
                    f"\tEndTime=0\tName={_adms_clean(person.name)}\tPrivilege=0\tDisable=0"
                    "\tVerify=15"
                )
            if op == "userinfo":
                # Verify=15: face only (Verify=0 would let the terminal accept any method).
                return (
                    f"DATA UPDATE USERINFO PIN={pin}\tName={_adms_clean(person.name)}"
                    "\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000000000000\tVerify=15"
                )
            if not person.face_key:
                return None
            import base64

            content = base64.b64encode(await store.get(person.face_key)).decode()
            if acc:
                return (
                    f"DATA UPDATE biophoto PIN={pin}\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9"
                    f"\tMajorVer=0\tMinorVer=0\tFormat=0\tTmp={content}"
                )
            return (
                f"DATA UPDATE BIOPHOTO PIN={pin}\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9"
                f"\tMajorVer=0\tMinorVer=0\tFormat=0\tSize={len(content)}\tContent={content}"
            )
        return p.get("raw")
    if cmd.type == "force_offline":
        return "REBOOT"
    return None


async def adms_next_commands(
    device: Device,
    store: Any,
    limit: int = ADMS_COMMANDS_PER_POLL,
    max_bytes: int = ADMS_REPLY_BYTES,
) -> list[str]:
    """The ``C:<id>:<payload>`` lines for one getrequest: up to ``limit`` commands within
    ``max_bytes`` (at least one); empty means ``OK``."""
    out: list[str] = []
    size = 0
    for _ in range(limit + 5):
        if len(out) >= limit:
            break
        cmds = await due_commands(device, limit=limit - len(out))
        if not cmds:
            if device.forced_offline or not await _adms_queue_delta(device):
                break
            continue
        for i, cmd in enumerate(cmds):
            if cmd.type == "sync_persons":
                # 强制下发 re-sends every person: restart the platform-held cursor and versions.
                if cmd.params.get("full", True):
                    device.person_cursor = ""
                    await Device.filter(id=device.id).update(person_cursor="")
                    await DevicePin.filter(device_id=device.id).update(version=0)
                    forget(device.sn)
                await _finish(cmd, CommandStatus.DONE, "已重新下发人员")
                continue
            payload = await _adms_payload(device, cmd, store)
            if payload is None:
                await _finish(cmd, CommandStatus.FAILED, "ADMS 终端不支持该指令或人员已不在本项目")
                continue
            line = f"C:{cmd.id}:{payload}"
            if out and size + len(line) + 1 > max_bytes:
                await _unsend(cmds[i:])
                return out
            out.append(line)
            size += len(line) + 1
    return out


async def adms_next_command(device: Device, store: Any) -> str | None:
    """The next single ``C:<id>:<payload>`` line, or None (``OK``)."""
    lines = await adms_next_commands(device, store, limit=1)
    return lines[0] if lines else None


async def _unsend(cmds: list[DeviceCommand]) -> None:
    """Put back commands taken for a reply they did not fit in (not counted as an attempt)."""
    for cmd in cmds:
        if cmd.status != CommandStatus.SENT:
            continue
        attempts = max(0, cmd.attempts - 1)
        await DeviceCommand.filter(id=cmd.id, status=CommandStatus.SENT).update(
            status=CommandStatus.PENDING, attempts=attempts, sent_at=None
        )


async def adms_command_result(device: Device, cmd_id: str, code: int | None, cmd_text: str) -> None:
    """One ``devicecmd`` row: ``Return=0`` confirms; ``-10`` on a DELETE (the user is not on
    the terminal) is done too; anything else, or no Return at all, is retried up to the limit."""
    try:
        cid = int(cmd_id)
    except ValueError:
        return
    if not 0 < cid < 2**63:
        return
    cmd = await DeviceCommand.get_or_none(id=cid, device_id=device.id)
    if cmd is None:
        return  # not ours: nothing to confirm
    op = cmd.params.get("op") if cmd.type == "adms" else None
    ok = code == 0 or (code == -10 and op == "delete")
    message = (f"Return={code}" if code is not None else "未返回 Return") + (
        f" {cmd_text}" if cmd_text else ""
    )
    await ack_command(device, cid, ok, message)
    if ok and op == "delete":
        await DevicePin.filter(
            device_id=device.id, pin=int(cmd.params.get("pin") or 0), active=False
        ).delete()


async def _finish(cmd: DeviceCommand, status: CommandStatus, result: str) -> None:
    cmd.status, cmd.result, cmd.finished_at = status, result, now_utc()
    await cmd.save(update_fields=["status", "result", "finished_at"])


async def adms_options(device: Device, options: dict[str, str]) -> None:
    """Record a terminal's OPTIONS/registry metadata (firmware, counts, language, dialect).

    A count that is not a plausible number is refused (422, the key named), nothing stored.
    """
    updates: dict[str, Any] = {}
    for key, attr in (("UserCount", "person_count"), ("FaceCount", "face_count")):
        value = options.get(key, "").strip()
        if not value:
            continue
        if not value.isascii() or not value.isdigit() or int(value) > ADMS_MAX_COUNT:
            raise ValidationError(f"{key} 数值无效", code="bad_field", field=key)
        updates[attr] = int(value)
    language = (options.get("Language") or options.get("language") or "").strip()
    if language.isascii() and language.isdigit() and len(language) <= 8:
        if language != device.language:
            updates["language"] = language
    dialect = (options.get("DeviceType") or "").strip().lower()
    if dialect in ("att", "acc") and dialect != device.push_dialect:
        updates["push_dialect"] = dialect
    if updates:
        await Device.filter(id=device.id).update(**updates)
        for key, value in updates.items():
            setattr(device, key, value)
        forget(device.sn)
    await report_firmware(device, options.get("FWVersion") or options.get("FirmVer"))

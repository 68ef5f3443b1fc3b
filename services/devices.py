"""Devices: registry, secrets, request signing, online state, the command queue and upgrades.

The native protocol (``devices/``) and the ZKTeco ADMS adapter (``devices/adms/``) both call these
functions; the admin API (``admin_api/devices.py``) manages the same records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets as pysecrets
import time
from dataclasses import dataclass
from typing import Any

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
from models.devices import DEVICE_KIND_LABELS, UPGRADE_STATUS_LABELS
from realname.errors import AppError, Conflict, NotFound, ValidationError
from services import pii

# --- error codes of the contract ----------------------------------------------------------------
BAD_SIGNATURE = "bad_signature"
SIGNATURE_EXPIRED = "signature_expired"
REPLAYED_NONCE = "replayed_nonce"
DEVICE_UNKNOWN = "device_unknown"
DEVICE_UNBOUND = "device_unbound"
DEVICE_OFFLINE_FORCED = "device_offline_forced"

ONLINE_WINDOW = dt.timedelta(minutes=5)  # online while the last contact is this recent
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
    if not 16 <= len(nonce) <= 64:
        raise AppError("随机串长度应为16–64个字符", code=BAD_SIGNATURE, status=401, field="X-Nonce")
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
    """Record a contact (attendance or collection channel); writes coalesced per device."""
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
    await Device.filter(id=device.id).update(**updates)


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
    last = max(
        (t for t in (device.last_attendance_at, device.last_collection_at) if t), default=None
    )
    return last is not None and (at or now_utc()) - last <= ONLINE_WINDOW


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
        )
    except IntegrityError:
        raise Conflict("该设备编码已登记", code="device_exists") from None
    await UnregisteredDevice.filter(sn=sn).delete()
    forget(sn)
    return device, secret


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
    """Bind a device to a project (a bound device must be unbound first)."""
    if device.project_id not in (None, project.id):  # type: ignore[attr-defined]
        raise Conflict("设备已绑定其他项目，请先解绑", code="device_bound")
    device.project = project
    device.sync_cursor = 0
    device.person_cursor = ""
    await device.save(update_fields=["project_id", "sync_cursor", "person_cursor"])
    forget(device.sn)
    return device


async def unbind(device: Device) -> Device:
    """Unbind a device from its project (it stops working until bound again)."""
    device.project = None
    await device.save(update_fields=["project_id"])
    forget(device.sn)
    return device


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
    *, kind: str, manufacturer: str, version: str, url: str, sha256: str
) -> FirmwarePackage:
    """Register a firmware/app package (version, download URL and SHA-256)."""
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
            kind=kind, manufacturer=manufacturer or "", version=version, url=url, sha256=sha
        )
    except IntegrityError:
        raise Conflict("该版本已登记", code="firmware_exists") from None


def firmware_public(pkg: FirmwarePackage) -> dict[str, Any]:
    """A firmware package as the admin sees it."""
    return {
        "id": pkg.id,
        "kind": str(pkg.kind),
        "manufacturer": pkg.manufacturer,
        "version": pkg.version,
        "url": pkg.url,
        "sha256": pkg.sha256,
        "created_at": pkg.created_at,
    }


async def pick_firmware(device: Device, version: str | None) -> FirmwarePackage:
    """The package to upgrade a device to: the named version, else the newest for its kind."""
    query = FirmwarePackage.filter(kind=device.kind).filter(
        Q(manufacturer="") | Q(manufacturer=device.manufacturer)
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
) -> DeviceCommand:
    """Queue a command for a device; upgrade and force_offline also change the device's state."""
    params = dict(params or {})
    if type_ not in COMMAND_TYPES and type_ != "adms":
        raise ValidationError("指令类型无效", field="type")
    if type_ == "upgrade":
        pkg = await pick_firmware(device, params.get("version"))
        params = {"version": pkg.version, "url": pkg.url, "sha256": pkg.sha256}
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
    cmd = await DeviceCommand.get_or_none(id=cid, device_id=device.id)
    if cmd is None:
        raise NotFound("指令不存在", code="command_not_found")
    if cmd.type == "upgrade" and firmware:
        await report_firmware(device, firmware)
    if cmd.status in (CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.TIMEOUT):
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


# --- ADMS (ZKTeco PUSH) command mapping ---------------------------------------------------

ADMS_DELTA_PAGE = 50


def _adms_clean(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")


async def _adms_queue_delta(device: Device) -> int:
    """Turn the person delta since the device's cursor into USERINFO/BIOPHOTO/DELETE commands."""
    from services import enrolment

    rows, cursor, _more = await enrolment.person_delta(
        device.project_id,  # type: ignore[attr-defined]
        device.person_cursor or None,
        ADMS_DELTA_PAGE,
    )
    cmds = []
    expires = now_utc() + COMMAND_TTL
    for member, person in rows:
        entry = enrolment.person_entry(member, person)
        base = {"pin": entry["pin"], "person_id": person.id}
        if entry["active"]:
            cmds.append(
                DeviceCommand(
                    device_id=device.id,
                    type="adms",
                    expires_at=expires,
                    params={**base, "op": "userinfo", "name": person.name},
                )
            )
            cmds.append(
                DeviceCommand(
                    device_id=device.id,
                    type="adms",
                    expires_at=expires,
                    params={**base, "op": "biophoto"},
                )
            )
        else:
            cmds.append(
                DeviceCommand(
                    device_id=device.id,
                    type="adms",
                    expires_at=expires,
                    params={**base, "op": "delete"},
                )
            )
    if cmds:
        await DeviceCommand.bulk_create(cmds)
    if cursor != device.person_cursor:
        device.person_cursor = cursor
        await Device.filter(id=device.id).update(person_cursor=cursor)
        forget(device.sn)
    return len(cmds)


async def _adms_payload(cmd: DeviceCommand, store: Any) -> str | None:
    """The ADMS text of a queued command (None: not deliverable over ADMS, failed)."""
    from models import Person

    p = cmd.params
    if cmd.type == "adms":
        pin = p.get("pin")
        if p.get("op") == "userinfo":
            return (
                f"DATA UPDATE USERINFO PIN={pin}\tName={_adms_clean(p.get('name', ''))}"
                "\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000000000000\tVerify=0"
            )
        if p.get("op") == "delete":
            return f"DATA DELETE USERINFO PIN={pin}"
        if p.get("op") == "biophoto":
            person = await Person.get_or_none(id=p.get("person_id"))
            if person is None or not person.face_key:
                return None
            import base64

            data = await store.get(person.face_key)
            content = base64.b64encode(data).decode()
            return (
                f"DATA UPDATE BIOPHOTO PIN={pin}\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9"
                f"\tMajorVer=0\tMinorVer=0\tFormat=0\tSize={len(content)}\tContent={content}"
            )
        return p.get("raw")
    if cmd.type == "force_offline":
        return "REBOOT"
    return None


async def adms_next_command(device: Device, store: Any) -> str | None:
    """The next ``C:<id>:<payload>`` line for an ADMS terminal's getrequest, or None (``OK``)."""
    for _ in range(5):
        cmds = await due_commands(device, limit=1)
        if not cmds:
            if device.forced_offline or not await _adms_queue_delta(device):
                return None
            continue
        cmd = cmds[0]
        if cmd.type == "sync_persons":
            # 强制下发 re-sends every person: restart the platform-held cursor.
            if cmd.params.get("full", True):
                device.person_cursor = ""
                await Device.filter(id=device.id).update(person_cursor="")
            await _finish(cmd, CommandStatus.DONE, "已重新下发人员")
            continue
        payload = await _adms_payload(cmd, store)
        if payload is None:
            await _finish(cmd, CommandStatus.FAILED, "ADMS 终端不支持该指令或数据已不存在")
            continue
        return f"C:{cmd.id}:{payload}"
    return None


async def _finish(cmd: DeviceCommand, status: CommandStatus, result: str) -> None:
    cmd.status, cmd.result, cmd.finished_at = status, result, now_utc()
    await cmd.save(update_fields=["status", "result", "finished_at"])


async def adms_options(device: Device, options: dict[str, str]) -> None:
    """Record a terminal's OPTIONS/registry metadata (firmware, user and face counts)."""
    updates: dict[str, Any] = {}
    for key, attr in (("UserCount", "person_count"), ("FaceCount", "face_count")):
        if options.get(key, "").isdigit():
            updates[attr] = int(options[key])
    if updates:
        await Device.filter(id=device.id).update(**updates)
    await report_firmware(device, options.get("FWVersion"))

"""Firmware packages, their signed download links and the devices' upgrades."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Any, cast
from urllib.parse import quote

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from models import Device, DeviceKind, FirmwarePackage, UpgradeStatus
from realname import error_codes as E
from realname.errors import AppError, Conflict, NotFound, ValidationError
from services.devices.cache import forget, load_device

# --- firmware and upgrades ---------------------------------------------------------------------


def _checked_kind(kind: str, version: str) -> DeviceKind:
    """A package's device kind and version as every registration checks them."""
    try:
        checked = DeviceKind(kind)
    except ValueError:
        raise ValidationError("设备类型无效", field="kind") from None
    if not version or len(version) > 32:
        raise ValidationError("请填写版本号", code=E.REQUIRED.code, field="version")
    return checked


async def _create(**fields: Any) -> FirmwarePackage:
    """Store a package row; the same (kind, manufacturer, version) twice is a conflict."""
    try:
        return await FirmwarePackage.create(**fields)
    except IntegrityError:
        raise Conflict(code=E.FIRMWARE_EXISTS.code) from None


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
    kind = _checked_kind(kind, version)
    if not url or not url.startswith(("http://", "https://", "/")):
        raise ValidationError("请填写安装包下载地址", code=E.REQUIRED.code, field="url")
    sha = (sha256 or "").strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValidationError("SHA-256 应为64位十六进制", field="sha256")
    return await _create(
        kind=kind,
        manufacturer=manufacturer or "",
        version=version,
        url=url,
        sha256=sha,
        enterprise_id=enterprise_id,
    )


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
    kind = _checked_kind(kind, version)
    if not data:
        raise ValidationError("请上传安装包文件", code=E.REQUIRED.code, field="file")
    digest = hashlib.sha256(data).hexdigest()
    given = (sha256 or "").strip().lower()
    if given and given != digest:
        raise ValidationError("安装包文件与填写的 SHA-256 不一致", field="sha256")
    if await FirmwarePackage.exists(kind=kind, manufacturer=manufacturer or "", version=version):
        raise Conflict(code=E.FIRMWARE_EXISTS.code)
    suffix = next((e for e in FIRMWARE_EXTENSIONS if filename.lower().endswith(e)), ".bin")
    key = await store.put(
        data, prefix="firmware", suffix=suffix, content_type="application/octet-stream"
    )
    return await _create(
        kind=kind,
        manufacturer=manufacturer or "",
        version=version,
        url="",
        sha256=digest,
        file_key=key,
        size=len(data),
        enterprise_id=enterprise_id,
    )


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
        raise NotFound("设备不存在", code=E.DEVICE_NOT_FOUND.code)
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
        raise AppError("下载地址无效或已过期", code=E.BAD_SIGNATURE.code, status=403)
    pkg = await FirmwarePackage.get_or_none(id=package_id)
    if pkg is None or not pkg.file_key:
        raise NotFound(code=E.FIRMWARE_NOT_FOUND.code)
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
        "owner": "platform" if pkg.enterprise_id is None else "enterprise",
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
        raise NotFound("没有可用的升级包", code=E.FIRMWARE_NOT_FOUND.code)
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

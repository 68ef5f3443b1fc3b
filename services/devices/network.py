"""Source networks of ADMS terminals and suspicious contacts (refused or flagged)."""

from __future__ import annotations

import ipaddress
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from models import Device
from models.devices import SuspiciousContact
from services import localtime
from services.devices.cache import forget

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
        count=F("count") + 1, last_seen=localtime.now(), path=path
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
            updates["network_alert_at"] = localtime.now()
            await record_suspicious(device.sn, device.id, NEW_NETWORK, ip, path)
    else:
        updates["known_networks"] = known
    await Device.filter(id=device.id).update(**updates)
    for key, value in updates.items():
        setattr(device, key, value)
    forget(device.sn)

"""Devices: registry, secrets, request signing, online state, the command queue and upgrades.

The native protocol (``devices/``) and the ZKTeco ADMS adapter (``devices/adms/``, which owns the
ADMS command text) both call these functions; the admin API (``admin_api/devices.py``) manages the
same records. One module per sub-area; this package re-exports the names used elsewhere:

- ``cache``: this process's caches of registry rows, projects and contact writes
- ``presence``: contacts, online state, the offline sweep, unregistered serials
- ``signing``: request signatures and their verification (the contract's error codes)
- ``registry``: registering, settings, secrets, search
- ``firmware``: firmware packages, signed download links, upgrades
- ``commands``: the command queue (queue, deliver, acknowledge, expire), heartbeats
- ``binding``: binding to a project and unbinding (commands cancelled, person sync restarted)
- ``network``: source networks and suspicious contacts
"""

from services.devices.binding import bind, unbind
from services.devices.cache import forget, forget_all, load_device, project_of
from services.devices.commands import (
    COMMAND_RETRY_AFTER,
    ack_command,
    command_admin,
    command_public,
    due_commands,
    expire_commands,
    heartbeat,
    list_commands,
    queue_command,
)
from services.devices.firmware import (
    add_firmware,
    add_firmware_file,
    firmware_download,
    firmware_public,
    visible_firmware,
)
from services.devices.network import adms_refusal, suspicious_contacts
from services.devices.presence import (
    ATTENDANCE_CHANNEL,
    COLLECTION_CHANNEL,
    is_online,
    last_contact,
    record_unregistered,
    register_presence_sweep,
    sweep_presence,
    touch,
)
from services.devices.registry import (
    clear_network_alert,
    device_public,
    project_device,
    register_device,
    rotate_secret,
    search_devices,
    set_forced_offline,
    unregistered_seen,
    update_settings,
)
from services.devices.signing import (
    sign,
    signed_headers,
    verify_request,
)

__all__ = [
    "ATTENDANCE_CHANNEL",
    "COLLECTION_CHANNEL",
    "COMMAND_RETRY_AFTER",
    "ack_command",
    "add_firmware",
    "add_firmware_file",
    "adms_refusal",
    "bind",
    "clear_network_alert",
    "command_admin",
    "command_public",
    "device_public",
    "due_commands",
    "expire_commands",
    "firmware_download",
    "firmware_public",
    "forget",
    "forget_all",
    "is_online",
    "heartbeat",
    "last_contact",
    "list_commands",
    "load_device",
    "project_device",
    "project_of",
    "queue_command",
    "record_unregistered",
    "register_device",
    "register_presence_sweep",
    "rotate_secret",
    "search_devices",
    "set_forced_offline",
    "sign",
    "signed_headers",
    "suspicious_contacts",
    "sweep_presence",
    "touch",
    "unbind",
    "unregistered_seen",
    "update_settings",
    "verify_request",
    "visible_firmware",
]

"""Devices (terminals, collection machines, handsets), their commands and firmware."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models._fields import optional_ref, ref
from models._labels import LabelledEnum, labels


class DeviceKind(LabelledEnum):
    ATTENDANCE = "attendance", "考勤设备"
    COLLECTION = "collection", "采集设备"
    MOBILE = "mobile", "移动考勤设备"  # handset + Bluetooth reader
    LEGACY = "legacy", "一体机设备"  # the old platform's all-in-one


DEVICE_KIND_LABELS = labels(DeviceKind)


class UpgradeStatus(LabelledEnum):
    NONE = "none", "未升级"
    UPGRADING = "upgrading", "升级中"
    UPGRADED = "upgraded", "已升级"


UPGRADE_STATUS_LABELS = labels(UpgradeStatus)


class Device(Model):
    """A registered device; it works only once bound to a project (rule 10)."""

    id = fields.IntField(primary_key=True)
    sn = fields.CharField(max_length=64, unique=True)  # 设备编码
    kind = fields.CharEnumField(DeviceKind, max_length=16)
    manufacturer = fields.CharField(max_length=64, default="")
    model = fields.CharField(max_length=64, default="")
    project = optional_ref("Project", "devices")
    project_id: int | None
    enterprise = optional_ref("Enterprise", "devices")
    enterprise_id: int | None
    secret_enc = fields.TextField()
    antispoof = fields.BooleanField(default=False)  # trusted for liveness (ADMS terminals)
    protocol = fields.CharField(max_length=16, default="native")  # native | adms
    timezone = fields.CharField(max_length=64, default="Asia/Shanghai")
    firmware = fields.CharField(max_length=32, default="")
    target_firmware = fields.CharField(max_length=32, default="")
    upgrade_status = fields.CharEnumField(UpgradeStatus, max_length=16, default=UpgradeStatus.NONE)
    forced_offline = fields.BooleanField(default=False)
    person_count = fields.IntField(default=0)
    face_count = fields.IntField(default=0)
    sync_cursor = fields.BigIntField(default=0)
    # ADMS terminals cannot keep a cursor: the platform keeps theirs ("version.member_id").
    person_cursor = fields.CharField(max_length=48, default="")
    last_attendance_at = fields.DatetimeField(null=True)  # 最后考勤通讯时间
    last_collection_at = fields.DatetimeField(null=True)  # 最后采集通讯时间
    last_seen_ip = fields.CharField(max_length=64, default="")
    # The online state last written to the audit log (device.online / device.offline), so each
    # transition of the contact-based state is recorded once, whichever process sees it.
    online_recorded = fields.BooleanField(default=False)
    # ADMS: how a row's direction is read (state | fixed_in | fixed_out | auto), the source
    # network the terminal may call from (CIDR, "" = any), the networks it was heard from and
    # the alert raised when it reports from a new one, its language (83 = Chinese: GB2312 text)
    # and its PUSH dialect (att = attendance, acc = access-control firmware).
    direction_mode = fields.CharField(max_length=16, default="state")
    allowed_cidr = fields.CharField(max_length=64, default="")
    known_networks: fields.JSONField[list[str]] = fields.JSONField(default=list)
    network_alert = fields.CharField(max_length=64, default="")
    network_alert_at = fields.DatetimeField(null=True)
    language = fields.CharField(max_length=8, default="")
    push_dialect = fields.CharField(max_length=8, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "device"

    @property
    def bound_project_id(self) -> int:
        """The project of a bound device: the device routes serve no other (rule 10; refused
        with ``device_unbound`` before a handler runs), so an unbound one here is a bug."""
        if self.project_id is None:
            raise RuntimeError(f"device {self.id} is not bound to a project")
        return self.project_id


DIRECTION_MODES = ("state", "fixed_in", "fixed_out", "auto")


class CommandStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELED = "canceled"  # the device was bound to another project (or unbound) first


class DeviceCommand(Model):
    """A command for a device, delivered on heartbeat (native) or getrequest (ADMS)."""

    id = fields.BigIntField(primary_key=True)
    device: fields.ForeignKeyRelation[Device] = ref("Device", "commands")
    device_id: int
    type = fields.CharField(max_length=32)
    # The project the command was queued for: never delivered once the device is bound elsewhere.
    project_id = fields.IntField(null=True)
    params: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(CommandStatus, max_length=8, default=CommandStatus.PENDING)
    attempts = fields.IntField(default=0)
    max_attempts = fields.IntField(default=3)
    result = fields.TextField(default="")
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "device_command"
        indexes = (("device", "status"),)


class FirmwarePackage(Model):
    """A firmware/app package that devices can be told to upgrade to."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(DeviceKind, max_length=16)
    manufacturer = fields.CharField(max_length=64, default="")
    version = fields.CharField(max_length=32)
    url = fields.CharField(max_length=500)
    sha256 = fields.CharField(max_length=64)
    # An uploaded package: its key in the file store (served to devices by a signed URL).
    file_key = fields.CharField(max_length=200, default="")
    size = fields.BigIntField(default=0)
    # Who registered it: an enterprise (only its devices may be upgraded to it, only it sees it)
    # or, when null, the platform operator (offered to every enterprise's devices).
    enterprise = optional_ref("Enterprise", "firmware_packages")
    enterprise_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "firmware_package"
        unique_together = (("kind", "manufacturer", "version"),)


class UnregisteredDevice(Model):
    """A serial that contacted the platform without being registered (shown to admins)."""

    id = fields.IntField(primary_key=True)
    sn = fields.CharField(max_length=64, unique=True)
    protocol = fields.CharField(max_length=16, default="native")
    first_seen = fields.DatetimeField(auto_now_add=True)
    last_seen = fields.DatetimeField(auto_now=True)
    count = fields.IntField(default=1)
    last_ip = fields.CharField(max_length=64, default="")

    class Meta:
        table = "unregistered_device"


class DevicePin(Model):
    """A PIN the platform itself pushed to an ADMS terminal (USERINFO), with the member version
    queued last: only these PINs are ever deleted, and one change queues one update."""

    id = fields.BigIntField(primary_key=True)
    device: fields.ForeignKeyRelation[Device] = ref("Device", "pins", on_delete=fields.CASCADE)
    device_id: int
    pin = fields.BigIntField()
    project_id = fields.IntField()
    version = fields.BigIntField(default=0)
    active = fields.BooleanField(default=True)  # False: a DELETE USERINFO was queued
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "device_pin"
        unique_together = (("device", "pin"),)


class SuspiciousContact(Model):
    """A contact refused or flagged for security: a native serial on ``/iclock``, an ADMS
    terminal outside its allowed network, or one reporting from a new network."""

    id = fields.IntField(primary_key=True)
    sn = fields.CharField(max_length=64)
    device_id = fields.IntField(null=True)
    protocol = fields.CharField(max_length=16, default="adms")
    reason = fields.CharField(max_length=32)  # native_on_adms | source_not_allowed | new_network
    ip = fields.CharField(max_length=64, default="")
    path = fields.CharField(max_length=200, default="")
    count = fields.IntField(default=1)
    first_seen = fields.DatetimeField(auto_now_add=True)
    last_seen = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "suspicious_contact"
        unique_together = (("sn", "reason", "ip"),)

"""Device management (设备管理): request and reply models."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from models.devices import DeviceKind
from realname.contract import Body, PageQuery

DirectionMode = Literal["state", "fixed_in", "fixed_out", "auto"]
# the manual's commands: 升级 / 强制下线 / 强制下发 / 人员更新下发 / 重新下发人脸照片
CommandName = Literal[
    "upgrade", "force_offline", "force_push", "sync_persons", "push_persons", "upload_faces"
]


class DeviceQuery(PageQuery):
    """设备管理 filters: kind, manufacturer, code search."""

    kind: DeviceKind | None = Field(None, title="设备类型")
    q: str = Field("", max_length=64, title="设备编码/厂商/型号")
    manufacturer: str = Field("", max_length=64, title="设备厂商")


class DeviceRegister(Body):
    """登记设备."""

    kind: DeviceKind = Field(title="设备类型")
    sn: str = Field(min_length=1, max_length=64, title="设备编码")
    manufacturer: str = Field("", max_length=64, title="设备厂商")
    model: str = Field("", max_length=64, title="设备型号")
    antispoof: bool = Field(False, title="活体检测可信")
    protocol: Literal["native", "adms"] = Field("native", title="通讯协议")
    timezone: str = Field("Asia/Shanghai", max_length=64, title="时区")
    direction_mode: DirectionMode = Field("state", title="进出方向")
    allowed_cidr: str = Field("", max_length=200, title="允许的来源网络")


class DeviceSettings(Body):
    """Change a device's settings: only the fields sent change."""

    direction_mode: DirectionMode | None = Field(None, title="进出方向")
    allowed_cidr: str | None = Field(None, max_length=200, title="允许的来源网络")
    timezone: str | None = Field(None, max_length=64, title="时区")
    antispoof: bool | None = Field(None, title="活体检测可信")


class DeviceBind(Body):
    """Bind a registered device by serial."""

    sn: str = Field(min_length=1, max_length=64, title="设备编码")


class DeviceCommandCreate(Body):
    """A command for one device."""

    type: CommandName = Field(title="指令类型")
    version: str | None = Field(None, max_length=32, title="升级版本")


class PushPersons(Body):
    """人员更新下发 (``full``: 强制下发)."""

    full: bool = Field(False, title="全部重新下发")


class FirmwareCreate(Body):
    """Register a package by URL, or (multipart) with its ``file``."""

    kind: DeviceKind = Field(title="设备类型")
    manufacturer: str = Field("", max_length=64, title="设备厂商")
    version: str = Field(min_length=1, max_length=32, title="版本号")
    url: str = Field("", max_length=500, title="下载地址")
    sha256: str = Field("", max_length=64, title="SHA-256")


class NetworkWarning(BaseModel):
    """An ADMS terminal reported from a network not seen before (until acknowledged)."""

    network: str = Field(description="新的网段")
    at: dt.datetime | None = Field(None, description="发现时间")
    message: str = Field(description="中文提示")


class SuspiciousContact(BaseModel):
    """A refused or flagged device contact (``services.devices.network``)."""

    sn: str
    protocol: str
    reason: Literal["native_on_adms", "source_not_allowed", "new_network"]
    reason_label: str = Field(description="原因（中文）")
    ip: str
    path: str
    count: int
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None


class DevicePublic(BaseModel):
    """A device as the admin list shows it (the manual's Chinese columns plus the raw fields)."""

    col_seq: int | None = Field(alias="序号")
    col_sn: str = Field(alias="设备编码")
    col_state: Literal["在线", "离线", "强制下线"] = Field(alias="设备状态")
    col_manufacturer: str = Field(alias="设备厂商")
    col_model: str = Field(alias="设备型号")
    col_last_attendance: dt.datetime | None = Field(alias="最后考勤通讯时间")
    col_last_collection: dt.datetime | None = Field(alias="最后采集通讯时间")
    sn: str
    kind: str
    kind_label: str
    manufacturer: str
    model: str
    online: bool
    forced_offline: bool
    protocol: str
    antispoof: bool
    timezone: str
    firmware: str
    target_firmware: str
    upgrade_status: str
    upgrade_status_label: str
    persons: int | None = None
    faces: int | None = None
    direction_mode: str
    direction_mode_label: str
    allowed_cidr: str
    last_ip: str | None = None
    network_warning: NetworkWarning | None = None
    last_attendance_at: dt.datetime | None = None
    last_collection_at: dt.datetime | None = None
    created_at: dt.datetime | None = None


class DeviceWithSecret(DevicePublic):
    secret: str


class CommandPublic(BaseModel):
    id: int
    type: str
    params: dict[str, Any] | None = None
    status: str
    attempts: int
    max_attempts: int
    result: Any = None
    created_by: str | None = None
    created_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None


class DeviceDetail(DevicePublic):
    commands: list[CommandPublic]
    suspicious_contacts: list[SuspiciousContact]


class SecretReply(BaseModel):
    sn: str
    secret: str


class Queued(BaseModel):
    queued: int


class UnregisteredSeen(BaseModel):
    sn: str
    protocol: str
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    count: int
    last_ip: str | None = None


class FirmwarePublic(BaseModel):
    id: int
    kind: str
    manufacturer: str
    version: str
    url: str
    sha256: str
    uploaded: bool
    size: int
    owner: str = Field(description="platform（平台运维登记，所有企业可用）或 enterprise（本企业）")
    created_at: dt.datetime | None = None

"""The native device protocol v1 (``/device/v1``): request and reply models.

The wire contract is ``shared/spec/device-protocol.md`` and ``docs/device-protocol.md``: field
names, error codes (``bad_field`` with ``field`` in the ``faces[0].face`` form, ``malformed_json``
400) and the per-punch results in request order are fixed. So the request models here describe
the bodies for the OpenAPI document, while the services keep checking each field with the
contract's codes: one bad punch is a ``rejected`` result (``bad_field`` naming the field), never a
422 for the whole batch. Models accept fields beyond the contract (devices may send more; the
protocol only grows by adding).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from realname.contract import INT_MAX, Query

PUNCH_REASONS = Literal[
    "bad_field",
    "no_liveness",
    "unknown_person",
    "not_on_project",
    "contract_red",
    "missing_wage_card",
    "time_in_future",
    "time_out_of_range",
]


class DeviceBody(BaseModel):
    """A device request body: fields outside the contract are accepted and ignored."""

    model_config = ConfigDict(extra="allow")


class TerminalQuery(Query):
    """Query strings of the device protocols: unknown parameters are ignored (terminals in the
    field send more than they document). Not the admin device list's ``DeviceQuery``."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# --- heartbeat and commands ---------------------------------------------------------------------


MAX_COUNT = 10_000_000  # persons/faces a terminal may report (the columns are 32-bit)


class Heartbeat(DeviceBody):
    """心跳: firmware version and the counts the terminal holds."""

    firmware: str | None = Field(None, max_length=64, title="固件版本", examples=["1.4.2"])
    persons: int | None = Field(None, ge=0, le=MAX_COUNT, title="人员数")
    faces: int | None = Field(None, ge=0, le=MAX_COUNT, title="人脸数")


class Command(BaseModel):
    """A command for the device: ``upgrade`` params ``{version, url, sha256}``,
    ``sync_persons`` ``{full}``, ``upload_faces`` and ``force_offline`` ``{}``."""

    id: str
    type: Literal["upgrade", "sync_persons", "force_offline", "upload_faces"]
    params: dict[str, Any]


class HeartbeatReply(BaseModel):
    server_time: str = Field(description="服务器时间（设备所在时区，ISO 8601 带偏移）")
    server_timestamp: int = Field(description="服务器时间（Unix 秒）")
    commands: list[Command]


class CommandAck(DeviceBody):
    """指令回执; an upgrade ack carries the new firmware."""

    ok: bool = Field(title="是否执行成功")
    message: str | None = Field(None, max_length=500, title="说明")
    firmware: str | None = Field(None, max_length=64, title="新固件版本")


class CommandAckReply(BaseModel):
    id: str
    status: Literal["pending", "sent", "done", "failed", "timeout", "canceled"]


# --- punches -------------------------------------------------------------------------------------


# a person id as terminals send it: a whole number within the id column, or its digits as text
# (devices/native/parser.py decides; an integral float such as 1042.0 is read too)
PunchPersonId = (
    Annotated[int, Field(ge=1, le=INT_MAX)] | Annotated[str, Field(pattern=r"^\s*[0-9]{1,10}\s*$")]
)


class PunchIn(DeviceBody):
    """One punch (``person_id`` or ``id_number``); a bad field makes only this punch rejected."""

    id: str = Field(max_length=64, title="设备本地打卡编号（每台设备唯一）")
    person_id: PunchPersonId | None = Field(
        None, title="人员编号（整数，或其十进制数字文本）", examples=[1042, "1042"]
    )
    id_number: str | None = Field(None, max_length=18, title="身份证号")
    time: dt.datetime = Field(title="打卡时间（ISO 8601 带时区偏移）")
    direction: Literal["in", "out"] = Field(title="进出方向")
    liveness: bool = Field(title="活体检测通过")
    photo: str | None = Field(None, title="现场照片（base64 JPEG，≤2MB）")
    lat: float | None = Field(None, ge=-180, le=180, title="纬度")
    lng: float | None = Field(None, ge=-180, le=180, title="经度")


class PunchBatch(DeviceBody):
    """1–500 punches."""

    punches: list[PunchIn] = Field(min_length=1, max_length=500, title="打卡记录")


class PunchResult(BaseModel):
    """The result of one punch, in the request's order."""

    id: Any = Field(description="the punch's id as sent")
    status: Literal["accepted", "duplicate", "rejected"]
    reason: PUNCH_REASONS | None = None
    field: str | None = None


class PunchResults(BaseModel):
    results: list[PunchResult]


# --- person sync, faces --------------------------------------------------------------------------


class PersonsQuery(TerminalQuery):
    cursor: str | None = Field(None, title="同步游标（上次返回的 cursor）")


class PersonEntry(BaseModel):
    person_id: int
    pin: str
    name: str
    face_sha256: str | None
    face_url: str | None
    active: bool


class PersonsDelta(BaseModel):
    persons: list[PersonEntry]
    cursor: str
    more: bool


class FaceIn(DeviceBody):
    person_id: int = Field(title="人员编号")
    face: str = Field(title="人脸照片（base64 JPEG）")


class FacesUpload(DeviceBody):
    """重新下发人脸照片: a terminal's latest photos (≤ 200)."""

    faces: list[FaceIn] = Field(min_length=1, max_length=200, title="人脸照片")


class FaceResult(BaseModel):
    person_id: int
    status: Literal["accepted", "rejected"]
    reason: str | None = None
    face_sha256: str | None = None


class FaceResults(BaseModel):
    results: list[FaceResult]


class FirmwareQuery(TerminalQuery):
    """The signed URL of an ``upgrade`` command."""

    sn: str = Field("", title="设备编码")
    expires: str = Field("", title="有效期（Unix 秒）")
    sig: str = Field("", title="下载签名")


# --- collection machines: options and enrolment --------------------------------------------------


class OptionsQuery(TerminalQuery):
    version: str | None = Field(None, title="已持有的选项版本")


class CodeLabel(BaseModel):
    code: str
    label: str


class TeamOption(BaseModel):
    id: int
    name: str
    on_site: bool


class UnitOption(BaseModel):
    credit_code: str
    name: str
    role: str
    role_label: str
    on_site: bool
    teams: list[TeamOption]


class DeviceOptions(BaseModel):
    """人员进场 pickers; with an unchanged ``version`` only ``{version, changed: false}``."""

    version: str
    changed: bool
    person_types: list[CodeLabel] | None = None
    units: list[UnitOption] | None = None
    work_types: list[CodeLabel] | None = None
    posts: list[CodeLabel] | None = None


class Enrolment(DeviceBody):
    """人员进场 (ID card, face, unit, team, work type or post) or 重新采集 (``recapture``)."""

    recapture: bool = Field(False, title="重新采集（只替换人脸）")
    id_number: str = Field(max_length=18, title="身份证号")
    name: str | None = Field(None, max_length=64, title="姓名")
    gender: Literal["男", "女"] | None = Field(None, title="性别")
    ethnicity: str | None = Field(None, max_length=32, title="民族")
    birth_date: str | None = Field(None, title="出生日期（YYYY-MM-DD）")
    address: str | None = Field(None, max_length=255, title="住址")
    issuer: str | None = Field(None, max_length=128, title="签发机关")
    valid_from: str | None = Field(None, title="有效期起（YYYY-MM-DD）")
    valid_to: str | None = Field(None, title="有效期止（YYYY-MM-DD 或 长期）")
    id_photo: str | None = Field(None, title="身份证照片（base64 JPEG）")
    face: str = Field(title="人脸照片（base64 JPEG）")
    liveness: bool = Field(title="活体检测通过")
    person_type: Literal["labour", "management"] | None = Field(None, title="人员类型")
    unit_credit_code: str | None = Field(None, max_length=18, title="所属单位统一社会信用代码")
    team_id: int | None = Field(None, title="班组编号（劳务人员）")
    work_type: str | None = Field(None, max_length=32, title="工种（代码或名称）")
    post: str | None = Field(None, max_length=64, title="岗位（代码或名称）")
    phone: str | None = Field(None, max_length=11, title="手机号")


class EnrolmentReply(BaseModel):
    """201 for a new person (``created: true``), 200 for one already known."""

    person_id: int
    member_id: int
    pin: str
    created: bool
    face_sha256: str | None


# --- ZKTeco ADMS (/iclock): plain text ------------------------------------------------------------


class AdmsQuery(TerminalQuery):
    """The query string of an ADMS request (other parameters firmware sends are ignored)."""

    SN: str | None = Field(None, title="设备序列号（部分固件写作 sn）")
    table: str | None = Field(None, title="数据表（ATTLOG、OPERLOG、OPTIONS、rtlog...）")
    Stamp: str | None = Field(None, title="数据戳")
    options: str | None = Field(None, title="握手选项（all）")
    pushver: str | None = Field(None, title="PUSH 协议版本")
    language: str | None = Field(None, title="设备语言")
    type: str | None = Field(None, title="rtdata 类型（time）")

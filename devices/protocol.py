"""Native device protocol v1 (``/device/v1``): heartbeat, commands, punches, persons, faces,
enrolments. The contract is ``docs/device-protocol.md``; every request is signed (``signing``).

Each route is declared on the API contract (``realname.contract.endpoint``, ``Access.device()``)
with its body and reply models (``services.schemas.device_protocol``). The signature is checked
first (``devices.signing.signed`` wraps the declared handler); the fields are then checked by the
services with the contract's codes (``bad_field`` naming the field; one result per punch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext.extensions.openapi.builders import OperationStore

from devices.native import parse_native
from devices.signing import AUTO_CHANNEL, Handler, device_of, json_body, signed
from models import Project
from realname import error_codes as E
from realname.contract import Access, endpoint, storable
from realname.errors import AppError, ValidationError
from realname.web import ok
from services import devices as device_service
from services import enrolment, ingest, localtime
from services.devices import ATTENDANCE_CHANNEL, COLLECTION_CHANNEL
from services.schemas.device_protocol import (
    CommandAck,
    CommandAckReply,
    DeviceOptions,
    Enrolment,
    EnrolmentReply,
    FaceResults,
    FacesUpload,
    FirmwareQuery,
    Heartbeat,
    HeartbeatReply,
    OptionsQuery,
    PersonsDelta,
    PersonsQuery,
    PunchBatch,
    PunchResults,
)

bp = Blueprint("device_native")

PUNCH_BODY_LIMIT = 64 * 1024 * 1024  # 500 punches with photos
ENROL_BODY_LIMIT = 8 * 1024 * 1024
MAX_DEPTH = 32  # JSON nesting: the contract's bodies are 3 levels deep
CURSOR_MAX = 64

# What signing answers, on every signed route (the contract's codes).
SIGNING_ERRORS = (
    E.BAD_SIGNATURE,
    E.SIGNATURE_EXPIRED,
    E.REPLAYED_NONCE,
    E.DEVICE_UNKNOWN,
    E.DEVICE_UNBOUND,
    E.DEVICE_OFFLINE_FORCED,
    E.TOO_LARGE,
)
BODY_ERRORS = (E.MALFORMED_JSON, E.BAD_FIELD)


def device_route(
    channel: str | None,
    *,
    max_bytes: int | None = None,
    allow_forced: bool = False,
    body: Any = None,
    **decl: Any,
) -> Callable[[Handler], Handler]:
    """Declare a device route (``Access.device()``) and, with a `channel`, sign it (without one:
    ``Access.signed_url()``, the query carries the platform's signature).

    The signature is verified before anything else (``signed`` is the outer wrapper), so an
    unsigned request never learns how its body would be judged. `body` is documented as the
    request body; the handler reads it with ``device_body`` and the services check each field
    with the contract's codes."""

    def deco(func: Handler) -> Handler:
        errors = tuple(decl.pop("errors", ()))
        if channel is not None:
            errors = SIGNING_ERRORS + errors
        if body is not None:
            errors = errors + BODY_ERRORS
        # unsigned (channel None): the firmware download, whose URL the platform signed
        access = Access.device() if channel is not None else Access.signed_url()
        # the body is documented only: read by device_body, each field checked by the services
        inner = endpoint(access=access, errors=errors, body_doc=body, **decl)(func)
        if channel is None:
            return inner
        outer = signed(channel, max_bytes=max_bytes, allow_forced=allow_forced)(inner)
        store = OperationStore()
        store[outer] = store.pop(inner)  # sanic-ext documents the function the route runs
        return outer

    return deco


def _too_deep(value: Any, path: str, depth: int = 0) -> str | None:
    """The path (``punches[0].extra``) of a value nested deeper than MAX_DEPTH, or None."""
    if depth > MAX_DEPTH:
        return path
    if isinstance(value, dict):
        for k, v in value.items():
            found = _too_deep(v, f"{path}.{k}" if path else str(k), depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _too_deep(v, f"{path}[{i}]", depth + 1)
            if found is not None:
                return found
    return None


NOT_FINITE = "应为有限数值"
NOT_STORABLE = "含有无法保存的字符"


def _unstorable(value: Any, path: str) -> tuple[str, str] | None:
    """(path, why) of a value no column can store: a NaN/Infinity number (Python's JSON reader
    accepts them), a text or key with NUL or a lone surrogate; or None. Called after the depth
    check, so the recursion is bounded."""
    if isinstance(value, float) and not math.isfinite(value):
        return path, NOT_FINITE
    if isinstance(value, str) and not storable(value):
        return path, NOT_STORABLE
    if isinstance(value, dict):
        for k, v in value.items():
            key = f"{path}.{k}" if path else str(k)
            if not storable(str(k)):
                return (path or "body"), NOT_STORABLE
            found = _unstorable(v, key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _unstorable(v, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether nothing in the value is nested too deep or unstorable: ``_too_deep`` and
    ``_unstorable`` both None, in one walk that builds no paths (they run only when it fails,
    to name the field)."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(storable(str(k)) and _plain(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    return True


def _short(path: str) -> str:
    """The first two steps of a path below a list item (``punches[0].extra``)."""
    head, dot, rest = path.partition(".")
    if not dot:
        return head
    return f"{head}.{rest.split('.', 1)[0].split('[', 1)[0]}"


def device_body(request: Request) -> dict[str, Any]:
    """The JSON object body (400 ``malformed_json`` naming ``body``), refused with 422
    ``bad_field`` naming the field when nested deeper than any contract body can be, or
    holding what no column stores (NaN/Infinity, NUL, a lone surrogate)."""
    data = json_body(request)
    if _plain(data):
        return data  # the common case, checked without building paths
    deep = _too_deep(data, "")
    if deep is not None:
        field = _short(deep)
        raise ValidationError(f"{field} 嵌套层级过深", code=E.BAD_FIELD.code, field=field)
    odd = _unstorable(data, "")
    if odd is not None:
        field = _short(odd[0])
        raise ValidationError(f"{field} {odd[1]}", code=E.BAD_FIELD.code, field=field)
    return data


def _server_time(timezone: str | None) -> str:
    """Now in the device's configured zone (ISO 8601 with the offset, whole seconds)."""
    return str(localtime.iso(localtime.now(), localtime.zone(timezone)))


async def _project(request: Request) -> Project:
    device = device_of(request)
    return await Project.get(id=device.project_id)


@bp.post("/heartbeat")
@device_route(
    AUTO_CHANNEL,
    allow_forced=True,
    summary="设备心跳",
    body=Heartbeat,
    response=HeartbeatReply,
)
async def heartbeat(request: Request) -> HTTPResponse:
    """Report firmware and counts; receive the commands due for this device."""
    device = device_of(request)
    cmds = await device_service.heartbeat(device, device_body(request))
    return ok(
        {
            "server_time": _server_time(device.timezone),
            "server_timestamp": int(time.time()),
            "commands": [device_service.command_public(c) for c in cmds],
        }
    )


@bp.post("/commands/<command_id:str>/ack")
@device_route(
    AUTO_CHANNEL,
    allow_forced=True,
    summary="设备指令回执",
    body=CommandAck,
    response=CommandAckReply,
    errors=(E.COMMAND_NOT_FOUND,),
)
async def ack(request: Request, command_id: str) -> HTTPResponse:
    """Acknowledge a command (idempotent); an upgrade ack carries the new firmware."""
    body = device_body(request)
    okay = body.get("ok")
    if not isinstance(okay, bool):
        raise ValidationError("ok 应为 true 或 false", code=E.BAD_FIELD.code, field="ok")
    cmd = await device_service.ack_command(
        device_of(request), command_id, okay, str(body.get("message") or ""), body.get("firmware")
    )
    return ok({"id": str(cmd.id), "status": str(cmd.status)})


@bp.post("/punches")
@device_route(
    ATTENDANCE_CHANNEL,
    max_bytes=PUNCH_BODY_LIMIT,
    summary="上传考勤记录",
    body=PunchBatch,
    response=PunchResults,
)
async def punches(request: Request) -> HTTPResponse:
    """Store a batch of 1–500 punches; one result per punch, in order, after commit."""
    items = device_body(request).get("punches")
    if not isinstance(items, list) or not items:
        raise ValidationError(
            "punches 应为包含1–500条打卡的数组", code=E.BAD_FIELD.code, field="punches"
        )
    limit = request.app.ctx.settings.max_punch_batch
    if len(items) > limit:
        raise AppError(
            f"一次最多提交{limit}条打卡", code=E.TOO_LARGE.code, status=413, field="punches"
        )
    device = device_of(request)
    results = await ingest.ingest(
        device,
        await device_service.project_of(device),
        [parse_native(p) for p in items],
        request.app.ctx.files,
    )
    return ok({"results": results})


@bp.get("/persons")
@device_route(
    ATTENDANCE_CHANNEL,
    summary="人员名单同步",
    query=PersonsQuery,
    response=PersonsDelta,
    errors=(E.BAD_FIELD,),
)
async def persons(request: Request, query: PersonsQuery) -> HTTPResponse:
    """The members this terminal must recognise, as a delta since ``cursor``."""
    cursor = query.cursor
    if cursor and (len(cursor) > CURSOR_MAX or not _cursor_ok(cursor)):
        raise ValidationError("cursor 无效", code=E.BAD_FIELD.code, field="cursor")
    device = device_of(request)
    rows, cursor, more = await enrolment.person_delta(device.bound_project_id, cursor)
    return ok(
        {"persons": [enrolment.person_entry(m, p) for m, p in rows], "cursor": cursor, "more": more}
    )


def _cursor_ok(cursor: str) -> bool:
    """A cursor this server hands out: ``<version>.<member id>``, both within a BIGINT."""
    version, _, member = cursor.partition(".")
    try:
        return -1 <= int(version) < 2**63 and 0 <= int(member or 0) < 2**63
    except ValueError:
        return False


@bp.get("/faces/<person_id:int>")
@device_route(
    ATTENDANCE_CHANNEL,
    summary="下载人脸照片",
    response="binary",
    content_type="image/jpeg",
    errors=(E.FACE_NOT_FOUND,),
)
async def face(request: Request, person_id: int) -> HTTPResponse:
    """Download a person's face photo (the ``face_url`` of the person list; JPEG or PNG)."""
    device = device_of(request)
    data = await enrolment.face_for(
        device.bound_project_id,
        person_id,
        request.app.ctx.files,
    )
    return raw(data, content_type="image/png" if data.startswith(b"\x89PNG") else "image/jpeg")


@bp.get("/firmware/<package_id:int>")
@device_route(
    None,
    summary="下载固件安装包",
    query=FirmwareQuery,
    response="binary",
    content_type="application/octet-stream",
    errors=(E.BAD_SIGNATURE, E.FIRMWARE_NOT_FOUND),
)
async def firmware(request: Request, package_id: int, query: FirmwareQuery) -> HTTPResponse:
    """An uploaded firmware package, by the signed URL of an ``upgrade`` command (``sn``,
    ``expires``, ``sig``: valid for that device until the command expires; no signing headers)."""
    data = await device_service.firmware_download(
        package_id,
        query.sn[:128],
        query.expires[:32],
        query.sig[:128],
        request.app.ctx.files,
    )
    return raw(data, content_type="application/octet-stream")


@bp.get("/options")
@device_route(
    AUTO_CHANNEL,
    summary="人员进场选项",
    query=OptionsQuery,
    response=DeviceOptions,
)
async def options(request: Request, query: OptionsQuery) -> HTTPResponse:
    """The pickers of a collection machine: the bound project's units with their teams, work
    types and posts (codes and Chinese labels), person types, and a ``version``. With
    ``?version=`` equal to the current one, only ``{"version", "changed": false}`` comes back."""
    found = await enrolment.device_options(await _project(request))
    if query.version == found["version"]:
        return ok({"version": found["version"], "changed": False})
    return ok({**found, "changed": True})


@bp.post("/enrolments")
@device_route(
    COLLECTION_CHANNEL,
    max_bytes=ENROL_BODY_LIMIT,
    summary="人员进场（采集）",
    body=Enrolment,
    response=EnrolmentReply,
    status=201,
    errors=(
        E.REQUIRED,
        E.INVALID_DATE,
        E.INVALID_ID_NUMBER,
        E.INVALID_PHONE,
        E.INVALID_CREDIT_CODE,
        E.ID_EXPIRED,
        E.NO_LIVENESS,
        E.UNIT_NOT_ON_PROJECT,
        E.TEAM_NOT_FOUND,
        E.UNKNOWN_PERSON,
        E.NOT_ON_PROJECT,
        E.WRONG_DEVICE_KIND,
    ),
)
async def enrolments(request: Request) -> HTTPResponse:
    """人员进场 / 重新采集 from a collection machine (201 new person, 200 already known)."""
    result = await enrolment.enrol(
        device_of(request), await _project(request), device_body(request), request.app.ctx.files
    )
    return ok(result, status=201 if result["created"] else 200)


@bp.post("/faces")
@device_route(
    AUTO_CHANNEL,
    max_bytes=PUNCH_BODY_LIMIT,
    summary="上传人脸照片",
    body=FacesUpload,
    response=FaceResults,
)
async def faces(request: Request) -> HTTPResponse:
    """A terminal's latest face photos, in answer to ``upload_faces``."""
    return ok(
        await enrolment.upload_faces(
            device_of(request), await _project(request), device_body(request), request.app.ctx.files
        )
    )

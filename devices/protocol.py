"""Native device protocol v1 (``/device/v1``): heartbeat, commands, punches, persons, faces,
enrolments. The contract is ``docs/device-protocol.md``; every request is signed (``signing``)."""

from __future__ import annotations

import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from devices.signing import AUTO_CHANNEL, device_of, json_body, signed
from models import Project
from realname.errors import AppError, ValidationError
from realname.web import ok
from services import devices as device_service
from services import enrolment, ingest, localtime
from services.devices import ATTENDANCE_CHANNEL, COLLECTION_CHANNEL

bp = Blueprint("device_native")

PUNCH_BODY_LIMIT = 64 * 1024 * 1024  # 500 punches with photos
ENROL_BODY_LIMIT = 8 * 1024 * 1024


def _server_time(timezone: str | None) -> str:
    """Now in the device's configured zone (ISO 8601 with the offset, whole seconds)."""
    import datetime as dt

    return str(localtime.iso(dt.datetime.now(dt.UTC), localtime.zone(timezone)))


async def _project(request: Request) -> Project:
    device = device_of(request)
    return await Project.get(id=device.project_id)  # type: ignore[attr-defined]


@bp.post("/heartbeat")
@signed(AUTO_CHANNEL, allow_forced=True)
async def heartbeat(request: Request) -> HTTPResponse:
    """Report firmware and counts; receive the commands due for this device."""
    device = device_of(request)
    cmds = await device_service.heartbeat(device, json_body(request))
    return ok(
        {
            "server_time": _server_time(device.timezone),
            "server_timestamp": int(time.time()),
            "commands": [device_service.command_public(c) for c in cmds],
        }
    )


@bp.post("/commands/<command_id:str>/ack")
@signed(AUTO_CHANNEL, allow_forced=True)
async def ack(request: Request, command_id: str) -> HTTPResponse:
    """Acknowledge a command (idempotent); an upgrade ack carries the new firmware."""
    body = json_body(request)
    okay = body.get("ok")
    if not isinstance(okay, bool):
        raise ValidationError("ok 应为 true 或 false", code="bad_field", field="ok")
    cmd = await device_service.ack_command(
        device_of(request), command_id, okay, str(body.get("message") or ""), body.get("firmware")
    )
    return ok({"id": str(cmd.id), "status": str(cmd.status)})


@bp.post("/punches")
@signed(ATTENDANCE_CHANNEL, max_bytes=PUNCH_BODY_LIMIT)
async def punches(request: Request) -> HTTPResponse:
    """Store a batch of 1–500 punches; one result per punch, in order, after commit."""
    items = json_body(request).get("punches")
    if not isinstance(items, list) or not items:
        raise ValidationError(
            "punches 应为包含1–500条打卡的数组", code="bad_field", field="punches"
        )
    limit = request.app.ctx.settings.max_punch_batch
    if len(items) > limit:
        raise AppError(f"一次最多提交{limit}条打卡", code="too_large", status=413, field="punches")
    device = device_of(request)
    results = await ingest.ingest(
        device,
        await device_service.project_of(device),
        [ingest.parse_native(p) for p in items],
        request.app.ctx.files,
    )
    return ok({"results": results})


@bp.get("/persons")
@signed(ATTENDANCE_CHANNEL)
async def persons(request: Request) -> HTTPResponse:
    """The members this terminal must recognise, as a delta since ``cursor``."""
    device = device_of(request)
    rows, cursor, more = await enrolment.person_delta(device.project_id, request.args.get("cursor"))  # type: ignore[attr-defined]
    return ok(
        {"persons": [enrolment.person_entry(m, p) for m, p in rows], "cursor": cursor, "more": more}
    )


@bp.get("/faces/<person_id:int>")
@signed(ATTENDANCE_CHANNEL)
async def face(request: Request, person_id: int) -> HTTPResponse:
    """Download a person's face photo (the ``face_url`` of the person list)."""
    device = device_of(request)
    data = await enrolment.face_for(
        device.project_id,  # type: ignore[attr-defined]
        person_id,
        request.app.ctx.files,
    )
    return raw(data, content_type="image/png" if data.startswith(b"\x89PNG") else "image/jpeg")


@bp.get("/firmware/<package_id:int>")
async def firmware(request: Request, package_id: int) -> HTTPResponse:
    """An uploaded firmware package, by the signed URL of an ``upgrade`` command (``sn``,
    ``expires``, ``sig``: valid for that device until the command expires)."""
    data = await device_service.firmware_download(
        package_id,
        request.args.get("sn") or "",
        request.args.get("expires") or "",
        request.args.get("sig") or "",
        request.app.ctx.files,
    )
    return raw(data, content_type="application/octet-stream")


@bp.get("/options")
@signed(AUTO_CHANNEL)
async def options(request: Request) -> HTTPResponse:
    """The pickers of a collection machine: the bound project's units with their teams, work
    types and posts (codes and Chinese labels), person types, and a ``version``. With
    ``?version=`` equal to the current one, only ``{"version", "changed": false}`` comes back."""
    found = await enrolment.device_options(await _project(request))
    if request.args.get("version") == found["version"]:
        return ok({"version": found["version"], "changed": False})
    return ok({**found, "changed": True})


@bp.post("/enrolments")
@signed(COLLECTION_CHANNEL, max_bytes=ENROL_BODY_LIMIT)
async def enrolments(request: Request) -> HTTPResponse:
    """人员进场 / 重新采集 from a collection machine."""
    result = await enrolment.enrol(
        device_of(request), await _project(request), json_body(request), request.app.ctx.files
    )
    return ok(result, status=201 if result["created"] else 200)


@bp.post("/faces")
@signed(AUTO_CHANNEL, max_bytes=PUNCH_BODY_LIMIT)
async def faces(request: Request) -> HTTPResponse:
    """A terminal's latest face photos, in answer to ``upload_faces``."""
    return ok(
        await enrolment.upload_faces(
            device_of(request), await _project(request), json_body(request), request.app.ctx.files
        )
    )

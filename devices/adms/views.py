"""ZKTeco ADMS ("PUSH") adapter under ``/iclock``: plain-text replies, the same punch pipeline.

A terminal is identified by its serial (``SN``) and must be registered and bound first; unknown
serials get a 403 text reply and are listed to admins as "unregistered device seen".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text

from devices.adms import parser
from models import Device, Project
from realname.errors import AppError
from realname.web import ip_of
from services import devices as device_service
from services import ingest

bp = Blueprint("device_adms", url_prefix="/iclock")

MAX_BODY = 16 * 1024 * 1024
Handler = Callable[..., Awaitable[HTTPResponse]]


def adms(func: Handler) -> Handler:
    """Resolve the terminal by ``SN``; render every failure as plain text (never JSON)."""

    @wraps(func)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        sn = (request.args.get("SN") or "").strip()
        if not sn:
            return text("ERROR: missing SN", status=400)
        if len(request.body or b"") > MAX_BODY:
            return text("ERROR: too large", status=413)
        auth = await device_service.load_device(sn)
        if auth is None:
            await device_service.record_unregistered(sn, "adms", ip_of(request))
            return text("ERROR: device unknown", status=403)
        device = auth.device
        if device.project_id is None:  # type: ignore[attr-defined]
            return text("ERROR: device unbound", status=403)
        await device_service.touch(device, device_service.ATTENDANCE_CHANNEL, ip_of(request))
        request.ctx.device = device
        try:
            return await func(request, device, *args, **kwargs)
        except AppError as exc:
            return text(f"ERROR: {exc.code}", status=exc.status)

    return wrapper


def _refuse_forced(device: Device) -> HTTPResponse | None:
    return text("ERROR: device offline forced", status=403) if device.forced_offline else None


@bp.get("/cdata")
@adms
async def handshake(request: Request, device: Device) -> HTTPResponse:
    """Handshake: the options the terminal should use (``GET OPTION FROM: SN``)."""
    if (refused := _refuse_forced(device)) is not None:
        return refused
    tz = ZoneInfo(device.timezone)
    lines = [
        f"GET OPTION FROM: {device.sn}",
        "ATTLOGStamp=None",
        "OPERLOGStamp=9999",
        "ATTPHOTOStamp=None",
        "ErrorDelay=30",
        "Delay=10",
        "TransTimes=00:00;14:05",
        "TransInterval=1",
        "TransFlag=TransData AttLog OpLog EnrollUser ChgUser UserPic",
        f"TimeZone={parser.tz_offset_hours(tz)}",
        "Realtime=1",
        "Encrypt=None",
    ]
    return text("\n".join(lines) + "\n")


@bp.post("/cdata")
@adms
async def upload(request: Request, device: Device) -> HTTPResponse:
    """ATTLOG rows into the punch pipeline; OPTIONS metadata recorded; other tables acknowledged."""
    if (refused := _refuse_forced(device)) is not None:
        return refused
    table = (request.args.get("table") or "").upper()
    body = request.body or b""
    if table == "ATTLOG":
        rows = parser.lines(body)
        tz = ZoneInfo(device.timezone)
        punches = [parser.parse_attlog_row(r, tz, device.antispoof) for r in rows]
        project = await Project.get(id=device.project_id)  # type: ignore[attr-defined]
        for start in range(0, len(punches), 500):
            await ingest.ingest(device, project, punches[start : start + 500])
        return text(f"OK: {len(rows)}")
    if table == "OPTIONS":
        await device_service.adms_options(device, parser.parse_options(body))
        return text("OK: 1")
    return text(f"OK: {len(parser.lines(body))}")


@bp.post("/registry")
@adms
async def registry(request: Request, device: Device) -> HTTPResponse:
    """Registry metadata (``FWVersion``, ``UserCount``, ``FaceCount``...)."""
    await device_service.adms_options(device, parser.parse_options(request.body or b""))
    return text("OK: 1")


@bp.get("/getrequest")
@adms
async def getrequest(request: Request, device: Device) -> HTTPResponse:
    """``OK`` or the next command ``C:<id>:<payload>`` (person sync, REBOOT...)."""
    if device.forced_offline:
        cmds = await device_service.due_commands(device, limit=1, types=("force_offline",))
        if not cmds:
            return text("ERROR: device offline forced", status=403)
        return text(f"C:{cmds[0].id}:REBOOT")
    line = await device_service.adms_next_command(device, request.app.ctx.files)
    return text(line or "OK")


@bp.post("/devicecmd")
@adms
async def devicecmd(request: Request, device: Device) -> HTTPResponse:
    """Command returns: ``Return=0`` confirms; non-zero is retried up to a limit, then failed."""
    for cmd_id, code, cmd in parser.parse_devicecmd(request.body or b""):
        try:
            await device_service.ack_command(
                device, cmd_id, code == 0, f"Return={code} {cmd}".strip()
            )
        except AppError:
            continue  # an id that is not ours: nothing to confirm
    return text("OK")

"""ZKTeco ADMS ("PUSH") adapter under ``/iclock``: plain-text replies, the same punch pipeline.

A terminal is identified by its serial (``SN``, or ``sn`` as some firmware writes it) and must be
registered **for ADMS** and bound first; unknown serials get a 403 text reply and are listed to
admins as "unregistered device seen"; a native (signed) device's serial is refused and recorded
as a suspicious contact, as is a terminal outside its allowed source network.

Every reply is plain text and carries the HTTP ``Date`` header (terminals set their clock from
it), including errors and unknown paths. Both PUSH dialects are served: attendance firmware
(``ATTLOG``) and access-control firmware (``DeviceType=acc``: ``registry``/``push`` handshake,
``rtlog`` events).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, text

from devices.adms import commands, parser
from models import Device, Project, Punch, PunchStatus
from realname.contract import Access, endpoint
from realname.errors import AppError
from realname.web import ip_of
from services import attendance, ingest, localtime
from services import devices as device_service
from services.files import sniff
from services.ingest import PunchIn
from services.schemas.device_protocol import AdmsQuery

log = logging.getLogger("realname.adms")

bp = Blueprint("device_adms", url_prefix="/iclock")

MAX_BODY = 16 * 1024 * 1024
MAX_SN = 64
CHINESE = "83"  # the terminal's Language option for Chinese: text goes out as GB2312/GBK
PUSH_VERSION = "3.1.2"
Handler = Callable[..., Awaitable[HTTPResponse]]


@bp.on_response
async def _date_header(request: Request, response: HTTPResponse) -> None:
    """Every ADMS reply carries ``Date``: terminals synchronise their clock from it."""
    response.headers.setdefault("Date", formatdate(usegmt=True))


@bp.exception(Exception)
async def _plain_errors(request: Request, exc: Exception) -> HTTPResponse:
    """Terminals read plain text only: failures are never JSON."""
    if isinstance(exc, AppError):
        return _err(exc.code + (f" {exc.field}" if exc.field else ""), exc.status)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 400 <= status < 500:
        return _err("bad request", status)
    log.exception("ADMS request failed: %s %s", request.method, request.path)
    return _err("server error", 500)


def _err(message: str, status: int) -> HTTPResponse:
    reply = text(f"ERROR: {message}", status=status)
    reply.headers["Date"] = formatdate(usegmt=True)
    return reply


def _serial(request: Request) -> str:
    return (request.args.get("SN") or request.args.get("sn") or "").strip()


def adms(func: Handler) -> Handler:
    """Resolve the terminal by ``SN``; refuse what ``/iclock`` must not serve (as plain text)."""

    @wraps(func)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        sn = _serial(request)
        if not sn:
            return _err("missing SN", 400)
        if len(sn) > MAX_SN:
            return _err("SN too long", 400)
        if len(request.body or b"") > MAX_BODY:
            return _err("too large", 413)
        auth = await device_service.load_device(sn)
        if auth is None:
            await device_service.record_unregistered(sn, "adms", ip_of(request))
            return _err("device unknown", 403)
        device = auth.device
        # The socket peer; a forwarding header counts only from a proxy in TRUSTED_PROXIES.
        peer = ip_of(request)
        refusal = await device_service.adms_refusal(device, peer, request.path)
        if refusal is not None:
            return _err(refusal, 403)
        if device.project_id is None:
            return _err("device unbound", 403)
        await device_service.touch(device, device_service.ATTENDANCE_CHANNEL, peer)
        request.ctx.device = device
        return await func(request, device, *args, **kwargs)

    return wrapper


def _refuse_forced(device: Device) -> HTTPResponse | None:
    return _err("device offline forced", 403) if device.forced_offline else None


def _registry_code(device: Device) -> str:
    """A stable registry code for an access-control terminal (no secret: ADMS has none)."""
    return hashlib.sha256(f"adms-registry:{device.id}:{device.sn}".encode()).hexdigest()[:16]


def _query_options(request: Request) -> dict[str, str]:
    """The handshake's own metadata (``language=83``, ``DeviceType=acc``, ``pushver``)."""
    found = {}
    for key in ("language", "DeviceType", "devicetype"):
        value = request.args.get(key)
        if value:
            found["Language" if key == "language" else "DeviceType"] = value
    return found


async def _handshake(request: Request, device: Device) -> HTTPResponse:
    """``GET cdata``: the options the terminal should use (``GET OPTION FROM: SN``).

    Other GETs on ``cdata`` (``table=RemoteAtt``: the terminal asking for a user it lacks) are
    acknowledged, never answered with the handshake.
    """
    if (refused := _refuse_forced(device)) is not None:
        return refused
    if request.args.get("table"):
        return text("OK")
    if options := _query_options(request):
        await commands.adms_options(device, options)
    tz = ZoneInfo(device.timezone)
    if device.push_dialect == "acc":
        return text("registry=ok\n" + _acc_options(device))
    lines = [
        f"GET OPTION FROM: {device.sn}",
        "ATTLOGStamp=None",
        "OPERLOGStamp=9999",
        "ATTPHOTOStamp=None",
        "ErrorDelay=30",
        "Delay=10",
        "TransTimes=00:00;14:05",
        "TransInterval=1",
        "TransFlag=TransData AttLog OpLog AttPhoto EnrollUser ChgUser UserPic",
        f"TimeZone={parser.timezone_option(tz)}",
        "Realtime=1",
        "Encrypt=None",
    ]
    return text("\n".join(lines) + "\n")


def _acc_options(device: Device) -> str:
    """The configuration an access-control terminal asks for (``registry``/``push``)."""
    tz = ZoneInfo(device.timezone)
    lines = [
        f"RegistryCode={_registry_code(device)}",
        f"ServerVersion={PUSH_VERSION}",
        "ServerName=realname",
        f"PushVersion={PUSH_VERSION}",
        "ErrorDelay=30",
        "RequestDelay=10",
        "TransTimes=00:00\t14:05",
        "TransInterval=1",
        "TransTables=User Transaction",
        "Realtime=1",
        f"SessionID={_registry_code(device)}",
        "TimeoutSec=10",
        f"TimeZone={parser.timezone_option(tz)}",
    ]
    return "\n".join(lines) + "\n"


async def _settle_auto(device: Device, project: Project, punches: list[PunchIn]) -> None:
    """Directions of rows without one (state 255, ``auto`` mode): the member's first punch of
    the day is ``in``, then they alternate (settled by first-in/last-out)."""
    tz = attendance.zone(project.timezone)
    groups: dict[tuple[int, dt.date], list[PunchIn]] = defaultdict(list)
    for p in punches:
        if p.error is None and p.payload.get("direction") == "auto" and p.pin and p.time:
            groups[(p.pin, attendance.local_day(p.time, tz))].append(p)
    for (pin, day), items in groups.items():
        keys = {p.key for p in items}
        stored = await Punch.filter(
            member_id=pin, local_date=day, status=PunchStatus.ACCEPTED
        ).values_list("time", "device_id", "device_punch_id")
        # the batch's own rows stored before (a terminal re-sending) do not count twice
        earlier = [t for t, d, k in stored if not (d == device.id and k in keys)]
        batch = sorted({p.key: p for p in items}.values(), key=lambda p: p.time or dt.datetime.min)
        for index, p in enumerate(batch):
            assert p.time is not None
            before = sum(1 for t in earlier if t < p.time) + index
            p.direction = "in" if before % 2 == 0 else "out"
        for p in items:  # the same row twice in a batch gets the same answer
            p.direction = next(b.direction for b in batch if b.key == p.key)


PHOTO_WAIT_SECONDS = 7 * 86400  # a photo uploaded before its row waits this long for it


def _photo_wait_key(device: Device, punch_key: str) -> str:
    return f"adms:photo:{device.id}:{punch_key}"


async def _store_punches(request: Request, device: Device, punches: list[PunchIn]) -> None:
    project = await device_service.project_of(device)
    await _settle_auto(device, project, punches)
    for start in range(0, len(punches), 500):
        await ingest.ingest(device, project, punches[start : start + 500])
    await _attach_waiting_photos(request, device, [p.key for p in punches if p.error is None])


async def _attach_waiting_photos(request: Request, device: Device, keys: list[str]) -> None:
    """Attach attendance photos that arrived (``fdata``) before their rows."""
    if not keys:
        return
    redis = request.app.ctx.redis
    names = [_photo_wait_key(device, k) for k in keys]
    found = await redis.mget(names)
    for key, name, photo in zip(keys, names, found, strict=True):
        if photo is None:
            continue
        photo_key = photo.decode() if isinstance(photo, bytes) else str(photo)
        await Punch.filter(device_id=device.id, device_punch_id=key, photo_key__isnull=True).update(
            photo_key=photo_key
        )
        await redis.delete(name)


async def _upload(request: Request, device: Device) -> HTTPResponse:
    """``POST cdata``: ATTLOG (and access-control ``rtlog``) rows into the punch pipeline;
    OPTIONS metadata recorded; other tables acknowledged."""
    if (refused := _refuse_forced(device)) is not None:
        return refused
    table = (request.args.get("table") or "").upper()
    body = request.body or b""
    tz = ZoneInfo(device.timezone)
    if table == "ATTLOG":
        rows = parser.lines(body)
        await _store_punches(
            request,
            device,
            [parser.parse_attlog_row(r, tz, device.antispoof, device.direction_mode) for r in rows],
        )
        return text(f"OK: {len(rows)}")
    if table == "RTLOG":
        rows = parser.lines(body)
        found = [
            parser.parse_rtlog_row(r, tz, device.antispoof, device.direction_mode) for r in rows
        ]
        await _store_punches(request, device, [p for p in found if p is not None])
        return text("OK")
    if table == "TABLEDATA" and (request.args.get("tablename") or "").lower() == "transaction":
        rows = parser.lines(body)
        found = [
            parser.parse_transaction_row(r, tz, device.antispoof, device.direction_mode)
            for r in rows
        ]
        await _store_punches(request, device, [p for p in found if p is not None])
        return text(f"OK: {len(rows)}")
    if table == "OPTIONS":
        await commands.adms_options(device, parser.parse_options(body))
        return text("OK: 1")
    return text(f"OK: {len(parser.lines(body))}")


async def cdata(request: Request) -> HTTPResponse:
    """``/iclock/cdata``: GET is the handshake, POST an upload."""
    handler = _handshake if request.method == "GET" else _upload
    return await adms(handler)(request)


@adms
async def registry(request: Request, device: Device) -> HTTPResponse:
    """Registration metadata (``DeviceType``, ``FWVersion``/``FirmVer``, counts...); the reply
    is the ``RegistryCode`` the access-control firmware waits for."""
    await commands.adms_options(device, parser.parse_options(request.body or b""))
    return text(f"RegistryCode={_registry_code(device)}\n")


@adms
async def push(request: Request, device: Device) -> HTTPResponse:
    """Access-control firmware asks for its configuration after registering."""
    return text(_acc_options(device))


@adms
async def getrequest(request: Request, device: Device) -> HTTPResponse:
    """``OK`` or the queued commands ``C:<id>:<payload>``, several per poll (LF separated).

    Text goes out as GB2312/GBK to a terminal whose language is 83 (Chinese), else UTF-8.
    """
    if device.forced_offline:
        cmds = await device_service.due_commands(device, limit=1, types=("force_offline",))
        if not cmds:
            return _err("device offline forced", 403)
        return text(f"C:{cmds[0].id}:REBOOT")
    found = await commands.adms_next_commands(device, request.app.ctx.files)
    reply = "\n".join(found) if found else "OK"
    if device.language == CHINESE:
        return raw(reply.encode("gbk", errors="replace"), content_type="text/plain; charset=gb2312")
    return text(reply)


@adms
async def devicecmd(request: Request, device: Device) -> HTTPResponse:
    """Command returns, row by row: ``Return=0`` confirms (``-10`` too for a DELETE of a user
    the terminal no longer has); anything else is retried up to a limit, then failed."""
    bad = False
    for ret in parser.parse_devicecmd(request.body or b""):
        if not (ret.id.isascii() and ret.id.isdigit() and 0 < int(ret.id) < 2**63):
            bad = True  # no command has such an id: the rest of the body is still read
            continue
        await commands.adms_command_result(device, ret.id, ret.code, ret.cmd)
    return _err("bad ID", 400) if bad else text("OK")


@adms
async def ping(request: Request, device: Device) -> HTTPResponse:
    """Keep-alive while the terminal uploads a long backlog."""
    return text("OK")


@adms
async def rtdata(request: Request, device: Device) -> HTTPResponse:
    """``type=time``: the server clock in the terminal's zone (ZKTeco time encoding)."""
    tz = ZoneInfo(device.timezone)
    now = localtime.now().astimezone(tz)
    offset = now.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    total = abs(int(offset.total_seconds() // 60))
    return text(f"DateTime={parser.zk_time(now)},ServerTZ={sign}{total // 60:02d}{total % 60:02d}")


@adms
async def querydata(request: Request, device: Device) -> HTTPResponse:
    """Answers to data queries: acknowledged."""
    return text(f"OK: {len(parser.lines(request.body or b''))}" if request.body else "OK")


@adms
async def fdata(request: Request, device: Device) -> HTTPResponse:
    """Attendance photos (``PIN=<YYYYmmddHHMMSS>-<PIN>.jpg`` header lines, NUL, JPEG bytes):
    stored in the file store and attached to the punch of that PIN and second."""
    body = request.body or b""
    head, sep, data = body.partition(b"\x00")
    if not sep or not data:
        return _err("bad photo", 400)
    meta = parser.parse_options(head)
    name = meta.get("PIN", "")
    stamp, _, rest = name.partition("-")
    pin = parser.normalise_pin(rest.rsplit(".", 1)[0])
    try:
        local = dt.datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        local = None
    found = sniff(data)
    if pin is None or local is None or found is None or found[0] not in ("jpeg", "png"):
        return _err("bad photo", 400)
    key = await request.app.ctx.files.put(
        data, prefix="punches", suffix="." + found[2].lstrip("."), content_type=found[1]
    )
    punch_key = parser.punch_key(pin, local)
    attached = await Punch.filter(
        device_id=device.id, device_punch_id=punch_key, photo_key__isnull=True
    ).update(photo_key=key)
    if not attached and not await Punch.exists(device_id=device.id, device_punch_id=punch_key):
        # the row comes later: it picks the photo up when it arrives
        await request.app.ctx.redis.set(
            _photo_wait_key(device, punch_key), key, ex=PHOTO_WAIT_SECONDS
        )
    return text("OK")


# Plain-text replies (the API contract's declaration: a terminal, identified by its serial).
TEXT = {"type": "string", "example": "OK"}
SUMMARIES = {
    "cdata": "ADMS 握手与数据上传（考勤记录、参数）",
    "registry": "ADMS 设备注册信息",
    "push": "ADMS 门禁设备取配置",
    "getrequest": "ADMS 取指令",
    "devicecmd": "ADMS 指令执行结果",
    "ping": "ADMS 保活",
    "rtdata": "ADMS 取服务器时间",
    "querydata": "ADMS 数据查询应答",
    "fdata": "ADMS 上传考勤照片",
}


def _methods(name: str, handler: Callable[..., Awaitable[HTTPResponse]], summary: str) -> Any:
    async def route(request: Request, **_: Any) -> HTTPResponse:
        return await handler(request)

    route.__name__ = name
    route.__qualname__ = name
    route.__doc__ = handler.__doc__
    declared = endpoint(
        summary=summary,
        access=Access.adms(),
        query=AdmsQuery,
        response=TEXT,
        content_type="text/plain",
    )(route)
    return declared


ENDPOINTS: dict[str, Callable[..., Awaitable[HTTPResponse]]] = {
    "cdata": cdata,
    "registry": registry,
    "push": push,
    "getrequest": getrequest,
    "devicecmd": devicecmd,
    "ping": ping,
    "rtdata": rtdata,
    "querydata": querydata,
    "fdata": fdata,
}

for _name, _handler in ENDPOINTS.items():
    for _suffix in ("", ".aspx"):
        bp.add_route(
            _methods(f"adms_{_name}{_suffix.replace('.', '_')}", _handler, SUMMARIES[_name]),
            f"/{_name}{_suffix}",
            methods=["GET", "POST"],
            name=f"adms_{_name}{_suffix.replace('.', '_')}",
        )


@bp.route("/<rest:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], name="adms_unknown")
@endpoint(
    summary="ADMS 未知路径（纯文本 404）",
    access=Access.adms(),
    query=AdmsQuery,
    response=TEXT,
    content_type="text/plain",
    status=404,
)
async def unknown(request: Request, rest: str) -> HTTPResponse:
    """Any other ``/iclock`` path: plain text, never a JSON 404."""
    return _err("unknown endpoint", 404)

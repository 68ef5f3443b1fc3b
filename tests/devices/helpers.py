"""Helpers for the device tests: registered devices and signed requests."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx

from models import ProjectMember
from services import devices as svc
from tests.factories import ProjectWorld, make_member, make_project
from tests.suite import uid

# A minimal valid JPEG header followed by filler: enough for the content sniffing.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
JPEG_B64 = base64.b64encode(JPEG).decode()

# The columns of the console's device list (the API's rows carry them as keys).
DEVICE_LIST_COLUMNS = (
    "设备编码",
    "设备状态",
    "设备厂商",
    "设备型号",
    "最后考勤通讯时间",
    "最后采集通讯时间",
)


@dataclass
class Dev:
    """A registered device and its secret."""

    sn: str
    secret: str
    world: ProjectWorld | None


async def make_device(world: ProjectWorld | None, kind: str = "attendance", **kw: Any) -> Dev:
    """Register a device (bound to the world's project when given)."""
    sn = uid("SN")
    _, secret = await svc.register_device(
        world.project if world else None, kind=kind, sn=sn, manufacturer="海康", model="DS-K1", **kw
    )
    return Dev(sn, secret, world)


async def device_world(
    kind: str = "attendance", **member: Any
) -> tuple[ProjectWorld, Dev, ProjectMember]:
    """A new project with a device of `kind` bound to it and one member (``make_member``'s
    keywords: a labour member with work type and wage card by default)."""
    world = await make_project()
    dev = await make_device(world, kind=kind)
    return world, dev, await make_member(world, **member)


async def call(
    client: httpx.AsyncClient,
    dev: Dev,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
    secret: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A signed request to the native protocol."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    h = svc.signed_headers(dev.sn, secret or dev.secret, method, path, data, timestamp, nonce)
    h["Content-Type"] = "application/json"
    h.update(headers or {})
    return await client.request(method, path, content=data, headers=h)


async def heartbeat(client: httpx.AsyncClient, dev: Dev) -> httpx.Response:
    """A signed ``POST /device/v1/heartbeat`` (the reply carries the device's pending commands)."""
    return await call(client, dev, "POST", "/device/v1/heartbeat", {})


async def upload(client: httpx.AsyncClient, dev: Dev, punches: list[Any]) -> httpx.Response:
    """A signed upload of `punches` (see ``punch``) to ``POST /device/v1/punches``."""
    return await call(client, dev, "POST", "/device/v1/punches", {"punches": punches})


def punch(
    pid: str,
    person_id: int,
    *,
    when: dt.datetime | None = None,
    direction: str = "in",
    liveness: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A native punch object."""
    when = when or dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    return {
        "id": pid,
        "person_id": person_id,
        "time": when.isoformat(),
        "direction": direction,
        "liveness": liveness,
        **extra,
    }


async def upload_in_out(
    client: httpx.AsyncClient,
    dev: Dev,
    person_id: int,
    t_in: dt.datetime,
    t_out: dt.datetime,
    ids: tuple[str, str] = ("in", "out"),
) -> httpx.Response:
    """A signed upload of a day's two punches: the person in at `t_in`, out at `t_out`."""
    return await upload(
        client,
        dev,
        [
            punch(ids[0], person_id, when=t_in),
            punch(ids[1], person_id, when=t_out, direction="out"),
        ],
    )


def valid_id_number(male: bool = True) -> str:
    """A synthetic ID number that passes ``pii.validate_id_number`` (the shared factory's
    ``make_id_number`` occasionally yields one stdnum refuses)."""
    from services import pii
    from tests.factories import make_id_number

    while True:
        number = make_id_number(male=male)
        try:
            return pii.validate_id_number(number)
        except Exception:  # noqa: BLE001 - draw again
            continue

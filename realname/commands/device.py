"""``realname device register``: register a device on a project and print its secret (once)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from config.settings import Settings
from realname.commands._common import database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("device", help="manage devices (terminals, collection machines, handsets)")
    dsub = p.add_subparsers(dest="device_command", required=True)
    reg = dsub.add_parser("register", help="register a device and print JSON with its secret")
    reg.add_argument("--project", required=True, metavar="CODE")
    reg.add_argument(
        "--kind", required=True, choices=["attendance", "collection", "mobile", "legacy"]
    )
    reg.add_argument("--sn", required=True)
    reg.add_argument("--manufacturer", required=True)
    reg.add_argument("--model", required=True)
    reg.add_argument(
        "--antispoof",
        action="store_true",
        help="trust the terminal's own liveness check (ADMS terminals)",
    )
    reg.add_argument("--protocol", default="native", choices=["native", "adms"])
    reg.add_argument("--timezone", default="Asia/Shanghai")
    reg.add_argument(
        "--direction-mode",
        default="state",
        choices=["state", "fixed_in", "fixed_out", "auto"],
        help="ADMS: how a row's direction is read (state 255 is always auto)",
    )
    reg.add_argument(
        "--allowed-cidr", default="", help="ADMS: the only source network it may report from"
    )
    reg.set_defaults(func=run_register)


def _os_user() -> str:
    """Who ran the command (the operating-system account), for the audit log."""
    try:
        return getpass.getuser()[:64]
    except Exception:  # noqa: BLE001 - no user name in this environment
        return ""


async def run_register(args: argparse.Namespace, settings: Settings) -> int:
    """Register the device; print ``{"sn", "project", "kind", "secret"}``."""
    from models import Project
    from realname.errors import AppError
    from services import audit, devices

    async with database(settings):
        project = await Project.get_or_none(code=args.project)
        if project is None:
            print(f"项目不存在: {args.project}", file=sys.stderr)
            return 1
        try:
            device, secret = await devices.register_device(
                project,
                kind=args.kind,
                sn=args.sn,
                manufacturer=args.manufacturer,
                model=args.model,
                antispoof=args.antispoof,
                protocol=args.protocol,
                timezone=args.timezone,
                direction_mode=args.direction_mode,
                allowed_cidr=args.allowed_cidr,
            )
        except AppError as exc:
            print(f"{exc.code}: {exc.message}", file=sys.stderr)
            return 1
        await audit.record(
            "device.register",
            actor_kind="cli",
            actor_id=_os_user(),
            project_id=project.id,
            target=device.sn,
            detail={"kind": str(device.kind), "protocol": device.protocol, "via": "cli"},
        )
    print(
        json.dumps(
            {
                "sn": device.sn,
                "project": project.code,
                "kind": str(device.kind),
                "protocol": device.protocol,
                "antispoof": device.antispoof,
                "direction_mode": device.direction_mode,
                "allowed_cidr": device.allowed_cidr,
                "secret": secret,
            },
            ensure_ascii=False,
        )
    )
    return 0

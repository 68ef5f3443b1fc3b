"""The ``realname`` command: serve, migrate, import projects, issue tokens, seed the demo...

Sub-commands live in ``realname/commands/``: each module there defines ``register(subparsers)``
and sets ``func`` (an ``async def (args, settings) -> int``) on its parsers.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import pkgutil
import sys
from typing import Any

from pydantic import ValidationError

from config.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of ``realname/commands``."""
    from realname import commands

    parser = argparse.ArgumentParser(prog="realname", description="建筑工人实名制管理平台")
    sub = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"realname.commands.{info.name}")
        module.register(sub)
    return parser


def settings_error(exc: ValidationError) -> str:
    """Which settings are wrong and why, one per line, without their values: pydantic's own text
    repeats each input, and these are secrets (PII_KEYS, SECRET_KEY...) going to a terminal
    or a service's journal."""
    lines = ["配置错误 / settings error:"]
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {name}: {message}" if name else f"  {message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        # the commands' modules read the settings as they are imported (realname.db)
        args = build_parser().parse_args(argv)
        settings = get_settings()
    except ValidationError as exc:
        print(settings_error(exc), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - e.g. a .env file that cannot be read
        print(f"配置错误 / settings error: {exc}", file=sys.stderr)
        return 2
    func: Any = args.func
    if getattr(args, "sync", False):
        return int(func(args, settings) or 0)
    return int(asyncio.run(func(args, settings)) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

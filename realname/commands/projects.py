"""``realname import-projects FILE.json``: upsert projects from construction-permit data."""

from __future__ import annotations

import argparse
import json
import sys

from config.settings import Settings
from realname.commands._common import database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-projects", help="import projects from a permit-data JSON list")
    p.add_argument("file", help="JSON file (a list of projects); - for standard input")
    p.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Import; print the summary as JSON; exit 1 when any row was invalid."""
    from services.projects import import_projects

    try:
        raw = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"无法读取文件 / cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    try:
        rows = json.loads(raw)
    except json.JSONDecodeError as exc:
        print(f"文件不是有效的 JSON: {exc}", file=sys.stderr)
        return 2
    async with database(settings):
        result = await import_projects(rows)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 1 if result["errors"] else 0

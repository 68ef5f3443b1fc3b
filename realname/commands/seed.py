"""``realname seed-demo``: load the demo slice of Qinghai (idempotent)."""

from __future__ import annotations

import argparse
import json

from config.settings import Settings
from realname.commands._common import database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "seed-demo", help="create demo projects, people, devices, punches and their recent activity"
    )
    p.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Seed and print the summary (with one terminal's SN and secret for `realname simulate`)."""
    from realname.storage import make_file_store
    from services.demo import seed_demo
    from services.regions import ensure_regions

    if settings.env == "production":
        print("seed-demo is refused in production")
        return 2
    async with database(settings):
        await ensure_regions()
        summary = await seed_demo(make_file_store(settings))
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0

"""``realname migrate``: apply the schema migrations, then load reference data (regions)."""

from __future__ import annotations

import argparse

from config.settings import Settings
from realname import db
from realname.commands._common import database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Apply migrations and make sure the region list is present."""
    from services.regions import ensure_regions

    await db.migrate(settings)
    async with database(settings):
        added = await ensure_regions()
    print(f"migrations applied; {added} regions added")
    return 0

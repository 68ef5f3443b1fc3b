"""``realname rotate-pii``: re-encrypt personal data written with an older key of ``PII_KEYS``."""

from __future__ import annotations

import argparse

from config.settings import Settings
from realname.commands._common import database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotate-pii", help="re-encrypt personal data with the current PII key")
    p.add_argument("--batch", type=int, default=500)
    p.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Rotate every ``*_enc`` column of every model; print counts per table."""
    from services.pii import rotate_all

    async with database(settings):
        counts = await rotate_all(batch=args.batch)
    for table, n in sorted(counts.items()):
        print(f"{table}: {n} values re-encrypted")
    return 0

"""``realname simulate``: a native-protocol device that sends punches to a running server."""

from __future__ import annotations

import argparse

from config.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate a terminal against a running server")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--sn", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--punches", type=int, default=5, help="punches per round")
    p.add_argument("--batch", type=int, default=50, help="punches per request (≤500)")
    p.add_argument("--rounds", type=int, default=1, help="rounds to run (0: forever)")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between rounds")
    p.add_argument("--no-liveness", action="store_true", help="send punches without liveness")
    p.add_argument("--days-ago", type=int, default=0, help="send late punches from N days ago")
    p.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the simulator (it talks HTTP only; no database or Redis needed)."""
    from devices import simulator

    return await simulator.run(
        args.url,
        args.sn,
        args.secret,
        args.punches,
        args.batch,
        args.interval,
        args.rounds,
        not args.no_liveness,
        args.days_ago,
    )

"""``make bench``: run every ``bench/bench_*.py`` (or those named) and print their ratio tables.

Each module defines ``async def main(ctx: BenchContext) -> list[dict]`` returning rows such as
``{"bench": "...", "engine": "sqlite", "value": 123.0, "baseline": 456.0, "ratio": 0.27,
"goal": ">= 0.4"}``. Results are also written to ``bench/out/results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import pkgutil
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


@dataclass
class BenchContext:
    """What a benchmark needs: engines to run on and a scratch directory."""

    engines: list[str]
    postgres_url: str | None
    tmpdir: Path
    quick: bool
    extra: dict = field(default_factory=dict)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a ratio table."""
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("names", nargs="*", help="bench module names (default: all)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="a PostgreSQL database to use (its name must contain 'bench')",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="a Redis database the served platform may flush and use for nonces"
        " (default: the embedded Redis that realname serve starts)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PART",
        help="run only this part of a bench (repeatable; e.g. bench_devices: requests, batches)",
    )
    parser.add_argument(
        "--engine",
        action="append",
        choices=["sqlite", "postgres"],
        default=[],
        help="run only on this engine (repeatable; default: SQLite, and PostgreSQL when a URL"
        " is given)",
    )
    args = parser.parse_args(argv)
    import bench

    names = args.names or sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    engines = ["sqlite"] + (["postgres"] if args.postgres_url else [])
    if args.engine:
        if "postgres" in args.engine and not args.postgres_url:
            parser.error("--engine postgres needs --postgres-url (or BENCH_POSTGRES_URL)")
        engines = [e for e in engines if e in args.engine]
    ctx = BenchContext(
        engines=engines,
        postgres_url=args.postgres_url,
        tmpdir=Path(tempfile.mkdtemp(prefix="realname-bench-")),
        quick=args.quick,
        extra={"redis_url": args.redis_url, "only": set(args.only)},
    )
    if not args.postgres_url:
        print("(no --postgres-url / BENCH_POSTGRES_URL: PostgreSQL rows skipped)")
    rows: list[dict] = []
    try:
        for name in names:
            module = importlib.import_module(f"bench.{name}")
            print(f"== {name}", flush=True)
            result = asyncio.run(module.main(ctx))
            for row in result:
                print("  " + "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            rows.extend(result)
    finally:
        shutil.rmtree(ctx.tmpdir, ignore_errors=True)  # databases, files, wrk pools
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

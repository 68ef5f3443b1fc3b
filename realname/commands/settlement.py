"""``realname settlement failed|retry``: the member-days whose settlement failed and was set
aside (see ``services.attendance.settle_pending``), and releasing them for an immediate retry."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from config.settings import Settings
from realname.commands._common import database


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settlement", help="attendance days whose settlement failed (set aside)")
    ssub = p.add_subparsers(dest="settlement_command", required=True)
    failed = ssub.add_parser("failed", help="list the set-aside member-days with their error")
    failed.add_argument("--project", metavar="CODE", help="only this project")
    failed.add_argument("--json", action="store_true", help="one JSON object per line")
    failed.set_defaults(func=run_failed)
    retry = ssub.add_parser("retry", help="retry set-aside member-days on the next pass")
    retry.add_argument("--member", type=int, metavar="ID", help="only this project member")
    retry.add_argument("--day", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")
    retry.set_defaults(func=run_retry)


async def run_failed(args: argparse.Namespace, settings: Settings) -> int:
    """Print the set-aside member-days (times in the project's local time); exit 1 if any."""
    from models import Project
    from services import attendance

    async with database(settings):
        project_id = None
        if args.project:
            project = await Project.get_or_none(code=args.project)
            if project is None:
                print(f"项目不存在: {args.project}", file=sys.stderr)
                return 2
            project_id = project.id
        rows = await attendance.failed_days(project_id)
        projects = {p.id: p for p in await Project.filter(id__in={r["project_id"] for r in rows})}
    if not rows:
        if not args.json:  # --json: no line at all, so a monitoring script's parser is fine
            print("没有结算失败的考勤日 (no set-aside days)")
        return 0
    for r in rows:
        project = projects.get(r["project_id"])
        tz = attendance.zone(project.timezone if project else None)
        item = {
            "project": project.code if project else r["project_id"],
            "member_id": r["member_id"],
            "day": r["day"].isoformat(),
            "attempts": r["attempts"],
            "failed_at": r["failed_at"].astimezone(tz).isoformat(timespec="seconds"),
            "retry_at": (
                r["retry_at"].astimezone(tz).isoformat(timespec="seconds")
                if r["retry_at"]
                else None
            ),
            "error": r["error"],
        }
        if args.json:
            print(json.dumps(item, ensure_ascii=False))
        else:
            print(
                f"{item['project']}\tmember {item['member_id']}\t{item['day']}\t"
                f"attempts {item['attempts']}\tfailed {item['failed_at']}\t"
                f"retry {item['retry_at'] or 'next pass'}\t{item['error']}"
            )
    return 1


async def run_retry(args: argparse.Namespace, settings: Settings) -> int:
    """Make the set-aside days ready again; the running server settles them within seconds."""
    from services import attendance

    async with database(settings):
        n = await attendance.retry_failed(member_id=args.member, day=args.day)
    print(f"{n} pending marks released for the next settlement pass")
    return 0

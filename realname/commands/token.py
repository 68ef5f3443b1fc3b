"""``realname token issue``: print a bearer token for an enterprise, regulator or operator."""

from __future__ import annotations

import argparse
import sys

from config.settings import Settings
from realname.commands._common import database, redis_client


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("token", help="manage bearer tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    issue = tsub.add_parser("issue", help="issue a token and print it on stdout")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--enterprise", metavar="CREDIT_CODE")
    who.add_argument("--regulator", metavar="REGION_CODE")
    who.add_argument("--operator", metavar="NAME")
    issue.add_argument("--ttl", type=int, default=None, help="seconds (default TOKEN_TTL_SECONDS)")
    issue.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Find or create the account, issue a token, print only the token."""
    from realname.errors import AppError
    from services import accounts, identity

    async with database(settings):
        try:
            if args.enterprise:
                account = await accounts.enterprise_account(args.enterprise)
            elif args.regulator:
                account = await accounts.regulator_account(args.regulator)
            else:
                account = await accounts.operator_account(args.operator)
        except AppError as exc:
            print(exc.message, file=sys.stderr)
            return 1
        async with redis_client(settings) as redis:
            token = await identity.issue_token(
                redis,
                identity.principal_for_account(account),
                args.ttl or settings.token_ttl_seconds,
            )
    print(token)
    return 0

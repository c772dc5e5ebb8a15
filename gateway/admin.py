"""Operator commands for accounts that nobody may create for themselves.

    python -m gateway.admin create-account --role coordinator --username lin --name 林主任 --communities lianxi,beicai
    (the password is read from LINLI_NEW_PASSWORD or asked for)
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from linli.auth import ROLES
from linli.domain_errors import DomainError

from . import bootstrap, commands
from .store import accounts as store


def create_account(username: str, password: str, name: str, role: str, communities: tuple[str, ...] = ()) -> dict:
    return commands.create_staff(bootstrap.build().units, username, password, name, role, communities)


def demo_seeded() -> bool:
    """Whether `make run`'s demo data was loaded already (devstack.seed)."""
    return store.seed_marker(bootstrap.database()) is not None


def mark_demo_seeded(**facts) -> None:
    store.mark_seeded(bootstrap.database(), **facts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create accounts of any role (operators only).")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-account")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--username", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--communities", default="", help="a coordinator's communities, comma-separated")
    args = parser.parse_args(argv)
    password = os.environ.get("LINLI_NEW_PASSWORD") or getpass.getpass("Password: ")
    communities = tuple(c.strip() for c in args.communities.split(",") if c.strip())
    try:
        account = create_account(args.username, password, args.name, args.role, communities)
    except DomainError as refused:
        print(_MESSAGES.get(getattr(refused, "field", None), refused.message).format(username=args.username),
              file=sys.stderr)
        return 1 if refused.code == "conflict" else 2
    print(f"created {account['role']} {account['username']} ({account['_id']})")
    return 0


# the command line's own words for the rules' refusals
_MESSAGES = {"password": "The password needs at least 8 characters.",
             "community_ids": "A coordinator watches over at least one community: add --communities.",
             None: "The username {username!r} is taken."}

if __name__ == "__main__":
    sys.exit(main())

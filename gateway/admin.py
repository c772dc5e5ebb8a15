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

from . import accounts


def create_account(username: str, password: str, name: str, role: str, communities: tuple[str, ...] = ()) -> dict:
    db = accounts.database()
    accounts.prepare(db)
    return accounts.create(db, username, password, name, role, communities)


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
    if len(password) < 8:
        print("The password needs at least 8 characters.", file=sys.stderr)
        return 2
    communities = tuple(c.strip() for c in args.communities.split(",") if c.strip())
    if args.role == "coordinator" and not communities:
        print("A coordinator watches over at least one community: add --communities.", file=sys.stderr)
        return 2
    try:
        account = create_account(args.username, password, args.name, args.role, communities)
    except accounts.UsernameTaken:
        print(f"The username {args.username!r} is taken.", file=sys.stderr)
        return 1
    print(f"created {account['role']} {account['username']} ({account['_id']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

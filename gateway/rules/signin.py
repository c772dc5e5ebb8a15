"""Sign-in throttling that slows guessing down without letting anyone lock a person out.

Failed sign-ins are counted three ways, each in a moving window:

- per account AND address (5 in 15 minutes): guessing one account from one place slows to one try
  every three minutes; the owner signing in from elsewhere does not notice;
- per address (20 in 15 minutes): one place guessing many accounts is slowed the same way;
- per account from everywhere (30 in an hour): guesses spread over many addresses. Past it, only
  addresses this account has signed in from before (in the last 90 days) may still try: the owner
  from a known place is never stopped by strangers' failures.

Nothing here locks: every counter frees itself as its oldest failure ages out.
"""
from __future__ import annotations

from limits import parse

PER_ACCOUNT_AND_ADDRESS = parse("5 per 15 minutes")
PER_ADDRESS = parse("20 per 15 minutes")
PER_ACCOUNT_FROM_UNKNOWN_ADDRESSES = parse("30 per hour")
KNOWN_ADDRESS_DAYS = 90


class SlowDown(Exception):
    """Too many failed attempts from here just now: try again after `wait_seconds`."""

    def __init__(self, wait_seconds: int):
        super().__init__(f"wait {wait_seconds} s")
        self.wait_seconds = max(1, int(wait_seconds))


class BadCredentials(Exception):
    """The username or the password is wrong (which one is never said)."""


class AccountDisabled(Exception):
    """An admin has disabled this account."""


def counters(username: str, address: str) -> list[tuple[object, tuple[str, ...]]]:
    """Every counter a failed sign-in of `username` from `address` adds to: (limit, keys)."""
    account = username.lower()
    return [(PER_ACCOUNT_AND_ADDRESS, ("sign-in-pair", account, address)),
            (PER_ADDRESS, ("sign-in-address", address)),
            (PER_ACCOUNT_FROM_UNKNOWN_ADDRESSES, ("sign-in-account", account))]


def applies(limit, known_address: bool) -> bool:
    """The account-wide counter does not hold back an address the account has signed in from before."""
    return not (limit is PER_ACCOUNT_FROM_UNKNOWN_ADDRESSES and known_address)

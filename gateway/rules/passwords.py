"""Password hashes: argon2id at OWASP's minimum (19 MiB, t=2, p=1; about 43 ms here)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def hash_of(password: str) -> str:
    return _hasher.hash(password)


def matches(password_hash: str | None, password: str) -> bool:
    """An account without a password (an enrolled elder) or none at all is checked against a dummy hash,
    so that the answer is as slow as for anyone else."""
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None

"""Access tokens: signed by the gateway (RS256), verified by every service with the public key.

The algorithm is pinned and exp, iat, aud, iss and sub are required, so `alg: none`, an
HS256 token signed with the public key, or a token for another audience are all refused.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

import jwt

from .config import settings
from .ids import new_uuid, utcnow
from .keys import private_key_pem, public_key_pem

ISSUER = "linli-gateway"
AUDIENCE = "linli"
ALGORITHM = "RS256"
ROLES = ("resident", "provider", "volunteer", "coordinator", "admin")


@dataclass(frozen=True)
class Relative:
    """An elder this account may order for: the link was approved by the elder or a coordinator. `homes`:
    where the elder lives, as (community, building, room), "" where the profile does not say; an order at
    the elder's subsidised tier goes only there."""
    id: str
    name: str
    tags: tuple[str, ...] = ()
    homes: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    name: str
    tags: tuple[str, ...] = ()
    family: tuple[Relative, ...] = ()
    communities: tuple[str, ...] = ()  # a coordinator's communities: what they watch over
    # when the token it came from expires (seconds since the epoch): a live stream opened with it ends then
    expires_at: float | None = field(default=None, compare=False)

    def relative(self, account_id: str) -> Relative | None:
        return next((r for r in self.family if r.id == account_id), None)

    def is_(self, *roles: str) -> bool:
        return self.role in roles

    # -- staff scope: the one home of "a coordinator acts only within its communities" -------
    @property
    def is_staff(self) -> bool:
        return self.role in ("coordinator", "admin")

    def watches(self, community_id: str | None) -> bool:
        """An admin watches over every community; a coordinator over its own; nobody else over any."""
        if self.role == "admin":
            return True
        return self.role == "coordinator" and community_id is not None and community_id in self.communities

    def watches_any(self, community_ids) -> bool:
        """For things that span communities (a provider serving several, a volunteer's trips)."""
        return self.role == "admin" or any(self.watches(c) for c in community_ids or ())

    def scope_filter(self, field: str) -> dict:
        """A database filter limiting a staff member's reads to what it watches over ({} for an admin)."""
        if self.role == "admin":
            return {}
        if self.role == "coordinator":
            return {field: {"$in": list(self.communities)}}
        return {field: {"$in": []}}


class InvalidToken(Exception):
    pass


def key_id(public_pem: bytes) -> str:
    return hashlib.sha256(public_pem).hexdigest()[:16]


def issue_access_token(account_id: str, role: str, name: str, tags: tuple[str, ...] = (),
                       minutes: int | None = None, family: tuple[Relative, ...] = (),
                       communities: tuple[str, ...] = ()) -> str:
    cfg = settings()
    now = utcnow()
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": account_id, "role": role, "name": name,
        "tags": list(tags), "iat": now, "nbf": now,
        "family_of": [{"id": r.id, "name": r.name, "tags": list(r.tags), "homes": [list(h) for h in r.homes]}
                      for r in family],
        "communities": list(communities),
        "exp": now + timedelta(minutes=minutes or cfg.access_token_minutes), "jti": new_uuid(),
    }
    return jwt.encode(claims, private_key_pem(cfg), algorithm=ALGORITHM,
                      headers={"kid": key_id(public_key_pem(cfg))})


def verify_access_token(token: str) -> Principal:
    pem = public_key_pem()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("kid") != key_id(pem):
            raise InvalidToken("unknown signing key")
        claims = jwt.decode(
            token, pem, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
            options={"require": ["exp", "iat", "aud", "iss", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    role = claims.get("role")
    if role not in ROLES:
        raise InvalidToken("unknown role")
    try:
        family = tuple(Relative(r["id"], r.get("name", ""), tuple(r.get("tags", ())),
                                tuple((str(c), str(b), str(room)) for c, b, room in r.get("homes", ())))
                       for r in claims.get("family_of", ()))
    except (TypeError, KeyError, ValueError):
        raise InvalidToken("malformed family claim")
    return Principal(id=claims["sub"], role=role, name=claims.get("name", ""), tags=tuple(claims.get("tags", ())),
                     family=family, communities=tuple(claims.get("communities", ())),
                     expires_at=float(claims["exp"]))

"""What people do at the gateway: sign up, sign in, refresh, sign out, keep a profile, link family,
and what the committee and the admins do with accounts. Each takes the units of work and the person;
reads and writes go through the store, decisions through the rules."""
from __future__ import annotations

import secrets
from typing import Callable

from limits import parse

from linli import offload
from linli.auth import Principal, Relative, issue_access_token
from linli.contracts import gateway as contract
from linli.contracts.common import Builder
from linli.domain_errors import Conflict, NotFound, RuleBroken
from linli.ids import new_id, new_uuid
from linli.unit import Unit, Units

from .rules import accounts as rules
from .rules import passwords, signin
from .rules.signin import AccountDisabled, BadCredentials, SlowDown
from .store import accounts as store
from .store import throttle


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, spent, or its account cannot sign in any more."""


# -- what notify is told (the outbox, in the same transaction as the change) ----------------------

def _tell(u: Unit, build: Builder, account: dict) -> dict:
    """Emits the account's whole current picture for notify's read model (gateway.account.registered/updated)."""
    u.emit(build(**rules.notify_picture(account, store.family_of(u, account["_id"]))), f"account:{account['_id']}")
    return account


def _registered(u: Unit, account: dict) -> dict:
    return _tell(u, contract.account_registered, store.add_account(u, account))


def _updated(u: Unit, account: dict) -> dict:
    return _tell(u, contract.account_updated, account)


# -- signing in ---------------------------------------------------------------------------------

def _signed_in(u: Unit, account: dict, family: str | None = None) -> dict:
    """Fresh tokens for the account: an access token with its tags, family and communities, and a refresh token."""
    token = secrets.token_urlsafe(32)
    store.add_refresh(u, token, account["_id"], family or new_uuid())
    elders = tuple(Relative(r["_id"], r["name"], tuple(r.get("tags", ())), rules.homes_of(r.get("profile")))
                   for r in store.relatives(u, account["_id"]))
    return {"access_token": issue_access_token(account["_id"], account["role"], account["name"],
                                               tuple(account.get("tags", ())), family=elders,
                                               communities=tuple(account.get("communities", ()))),
            "refresh_token": token, "account": account}


def _new_account(u_now, username: str, password: str | None, name: str, role: str, **more) -> dict:
    return {"_id": more.pop("_id", None) or new_id("acc"), "username": username,
            "password_hash": offload.run(passwords.hash_of, password) if password is not None else None, "name": name,
            "role": role, "tags": [], "communities": list(more.pop("communities", ())),
            "profile": more.pop("profile", {}), "created_at": u_now, **more}


def sign_up(units: Units, username: str, password: str, name: str, role: str, address: str,
            per_address: str) -> dict:
    """A resident, provider or volunteer signs up (a few per address an hour) and is signed in."""
    limit = parse(per_address)
    if not throttle.hit(limit, "sign-up-address", address):
        raise SlowDown(throttle.seconds_until_free(limit, "sign-up-address", address))
    if role not in rules.SELF_SERVICE_ROLES:
        raise RuleBroken("role", "one of resident, provider, volunteer; coordinators are added by an admin")
    account = _new_account(units.now(), username, password, name, role)
    return units.run(lambda u: _signed_in(u, _registered(u, account)))


def sign_in(units: Units, username: str, password: str, address: str) -> dict:
    """Checks the password unless this account or this address has failed too often just now (rules.signin)."""
    known = store.is_known_address(units.read(), username, address)
    for limit, keys in signin.counters(username, address):
        if signin.applies(limit, known) and throttle.full(limit, *keys):
            raise SlowDown(throttle.seconds_until_free(limit, *keys))
    account = store.account_named(units.read(), username)
    if account is None or not offload.run(passwords.matches, account.get("password_hash"), password):
        for limit, keys in signin.counters(username, address):
            throttle.hit(limit, *keys)
        raise BadCredentials()
    if account.get("disabled_at"):
        raise AccountDisabled()

    def work(u: Unit) -> dict:
        store.remember_address(u, username, address)
        return _signed_in(u, account)

    return units.run(work)


def refresh(units: Units, token: str) -> dict:
    """Spends a refresh token for new tokens; a token used twice ends its whole family (the session)."""
    def work(u: Unit) -> dict | None:
        record = store.refresh_record(u, token)
        if record is None or record["expires_at"] <= u.now:
            return None
        account = store.account(u, record["account_id"])
        if not store.spend_refresh(u, record["_id"]) or account is None or account.get("disabled_at"):
            store.end_refresh_family(u, record["family"])
            return None
        return _signed_in(u, account, family=record["family"])

    tokens = units.run(work)
    if tokens is None:
        raise RefreshRefused()
    return tokens


def sign_out(units: Units, token: str) -> None:
    """The refresh token and every token refreshed from it stop working."""
    def work(u: Unit) -> None:
        record = store.refresh_record(u, token)
        if record is not None:
            store.end_refresh_family(u, record["family"])

    units.run(work)


# -- one's own account --------------------------------------------------------------------------

def me(units: Units, who: Principal) -> tuple[dict, list[dict]]:
    """The account and the elders it may order for; NotFound when the account is gone."""
    u = units.read()
    account = store.account(u, who.id)
    if account is None:
        raise NotFound("This account")
    return account, store.relatives(u, who.id)


def update_own_profile(units: Units, who: Principal, changes: dict,
                       community_exists: Callable[[str], bool]) -> tuple[dict, list[dict]]:
    """Community, addresses, birth year, phone and emergency contact; every community named must exist."""
    for field, community_id in rules.communities_named(changes):
        if not community_exists(community_id):
            raise rules.no_such_community(field)
    def work(u: Unit) -> tuple[dict, list[dict]]:
        account = store.change_profile(u, who.id, changes)
        if account is None:
            raise NotFound("This account")
        return _updated(u, account), store.relatives(u, who.id)

    return units.run(work)


# -- staff --------------------------------------------------------------------------------------

def create_staff(units: Units, username: str, password: str, name: str, role: str,
                 communities: tuple[str, ...] = ()) -> dict:
    """An admin (or an operator) adds an account of any role; coordinators watch over at least one community."""
    rules.check_password(password)
    rules.check_staff(role, communities)
    account = _new_account(units.now(), username, password, name, role, communities=communities)
    return units.run(lambda u: _registered(u, account))


def disable_account(units: Units, who: Principal, account_id: str, reason: str) -> dict:
    """An admin disables an account: it cannot sign in or refresh any more, its sessions end at once, and the
    gateway refuses its access tokens within a minute. Disabling twice changes nothing."""
    if account_id == who.id:
        raise Conflict("You cannot disable your own account; ask another admin.")

    def work(u: Unit) -> dict:
        account = store.account(u, account_id)
        if account is None:
            raise NotFound("The account")
        if not account.get("disabled_at"):
            account = _updated(u, store.disable(u, account_id, who.id, reason) or store.account(u, account_id))
        store.end_every_session_of(u, account_id)
        return account

    return units.run(work)


def set_tags(units: Units, who: Principal, account_id: str, tags: list[str], checked: str) -> dict:
    """A coordinator sets the eligibility tags of a resident of its communities after checking."""
    def work(u: Unit) -> dict:
        rules.resident_of(who, store.account(u, account_id))
        return store.set_tags(u, account_id, sorted(set(tags)), checked, who.id)

    return units.run(work)


def resident(units: Units, who: Principal, account_id: str) -> dict:
    return rules.resident_of(who, store.account(units.read(), account_id))


def enrol(units: Units, who: Principal, name: str, profile: dict, username: str | None = None) -> tuple[dict, list]:
    """The residents' committee signs up an elder of its communities who has no smartphone. The account has no
    password, so nobody signs in as the elder; the committee, and family members it approves, order for them."""
    rules.check_enrolment(who, profile["community_id"])
    account_id = new_id("acc")
    account = _new_account(units.now(), username or account_id, None, name, "resident", _id=account_id,
                           profile=profile, enrolled_by=who.id)

    def work(u: Unit) -> dict:
        if "phone" in profile:
            same = store.resident_with_phone(u, profile["community_id"], profile["phone"])
            if same is not None:
                raise rules.same_phone_enrolled(same)
        return _registered(u, account)

    return units.run(work), []


def update_enrolled_profile(units: Units, who: Principal, account_id: str, changes: dict) -> tuple[dict, list]:
    """The committee keeps the profile of an elder it enrolled: a new room, phone or emergency contact, or a move
    to another of its communities. Other residents keep their own."""
    def work(u: Unit) -> tuple[dict, list]:
        elder = rules.resident_of(who, store.account(u, account_id))
        rules.check_enrolled_profile_change(who, elder, changes)
        return _updated(u, store.change_profile(u, account_id, changes)), store.relatives(u, account_id)

    return units.run(work)


# -- family links -------------------------------------------------------------------------------

def ask_family_link(units: Units, who: Principal, elder_username: str, relation: str) -> dict:
    """Asks to order for an elder; the elder (or a coordinator) approves before it counts."""
    def work(u: Unit) -> dict:
        elder = rules.check_family_request(who, store.resident_named(u, elder_username))
        return store.add_link(u, {"_id": new_id("fam"), "member_id": who.id, "member_name": who.name,
                                  "elder_id": elder["_id"], "elder_name": elder["name"], "relation": relation,
                                  "status": "pending", "created_at": u.now})

    return units.run(work)


def approve_family_link(units: Units, who: Principal, link_id: str) -> dict:
    """The elder, or a coordinator of the elder's community, approves a family member ordering for them."""
    def work(u: Unit) -> dict:
        link = store.link(u, link_id)
        rules.check_link_approval(who, link, store.account(u, link["elder_id"]) if link else None)
        approved = store.approve_link(u, link_id, who.id)
        if link["status"] == "pending":  # the member's family changed: notify tells them of this elder now
            _updated(u, store.account(u, link["member_id"]))
        return approved

    return units.run(work)

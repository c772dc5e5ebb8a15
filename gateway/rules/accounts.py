"""Pure rules about accounts: roles people may take themselves, eligibility tags, usernames and
passwords, and who may see or change which account. The scope of staff is `Principal.watches`."""
from __future__ import annotations

import re

from linli.auth import Principal
from linli.domain_errors import Conflict, Forbidden, NotFound, RuleBroken

SELF_SERVICE_ROLES = ("resident", "provider", "volunteer")
STAFF_ROLES = ("coordinator", "admin")
ELIGIBILITY_TAGS = ("elder70", "low_income", "living_alone", "disabled")
USERNAME = r"^[A-Za-z0-9_.+-]{3,40}$"
USERNAME_HINT = "3 to 40 letters, digits or . _ + -"
PASSWORD_MIN = 8
REFRESH_DAYS = 30


def username_taken() -> Conflict:
    return Conflict("This username is taken; choose another.", username=["taken"])


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise RuleBroken("password", f"at least {PASSWORD_MIN} characters")


def check_staff(role: str, communities: tuple[str, ...]) -> None:
    if role == "coordinator" and not communities:
        raise RuleBroken("community_ids", "a coordinator watches over at least one community")


def sees_resident(who: Principal, account: dict | None) -> bool:
    """Staff see the residents who live in communities they watch over (their profile says so)."""
    return (account is not None and account.get("role") == "resident"
            and who.watches((account.get("profile") or {}).get("community_id")))


def resident_of(who: Principal, account: dict | None) -> dict:
    """The resident, when `who` looks after them; anyone else is not found, as if there were none."""
    if not sees_resident(who, account):
        raise NotFound("The resident")
    return account


def check_enrolment(who: Principal, community_id: str) -> None:
    if not who.watches(community_id):
        raise RuleBroken("community_id", f"you enrol residents of {', '.join(who.communities)}")


def check_enrolled_profile_change(who: Principal, resident: dict, changes: dict) -> None:
    """The committee keeps the profile of an elder it enrolled, within its communities."""
    if not resident.get("enrolled_by"):
        raise Forbidden("This resident keeps their own profile.")
    if "community_id" in changes and not who.watches(changes["community_id"]):
        raise RuleBroken("community_id", f"you look after {', '.join(who.communities)}; the committee of the "
                                         "new community takes the resident over")


def same_phone_enrolled(same: dict) -> Conflict:
    return Conflict(f"{same['name']} ({same['_id']}) of this community already has this phone number; "
                    "find them by it instead of enrolling them again.", phone=["already enrolled"])


def check_link_approval(who: Principal, link: dict | None, elder: dict | None) -> dict:
    """The elder, or staff watching over the elder's community, approves a family link; never the asker."""
    if link is not None and link["member_id"] == who.id:
        raise Forbidden("The elder or a coordinator approves this, not the one who asked.")
    if link is None:
        raise NotFound("The link")
    allowed = link["elder_id"] == who.id if who.role == "resident" else sees_resident(who, elder)
    if not allowed:
        raise NotFound("The link")
    return link


def check_family_request(who: Principal, elder: dict | None) -> dict:
    if elder is None or elder["_id"] == who.id:
        raise NotFound("That resident")
    return elder


def name_or_phone(q: str) -> tuple[str, str]:
    """("phone", pattern) for four digits or more (with spaces or dashes if you like): part of a phone number,
    however the resident spaced it: an elder who calls the committee is found by the number on the screen;
    anything else ("name", pattern), part of a name."""
    digits = re.sub(r"[\s\-]", "", q)
    if len(digits) >= 4 and digits.lstrip("+").isdigit():
        return "phone", r"[\s\-]*".join(re.escape(d) for d in digits)
    return "name", re.escape(q)


def communities_named(profile_changes: dict) -> list[tuple[str, str]]:
    """(field, community id) for every community a profile change names."""
    named = [("community_id", profile_changes["community_id"])] if "community_id" in profile_changes else []
    return named + [(f"addresses.{n}.community_id", a["community_id"])
                    for n, a in enumerate(profile_changes.get("addresses") or ()) if "community_id" in a]


def no_such_community(field: str) -> RuleBroken:
    return RuleBroken(field, "Linli does not serve this community; choose one of GET /api/v1/catalog/communities")


# -- what notify learns of an account (gateway.account.registered / updated) ------------------------

def notify_picture(account: dict, family_of: list[str]) -> dict:
    """The account as notify needs it to tell the person what needs them, and nothing more: no address,
    birth year, tags or emergency contact. `family_of`: the elders this account has approved links to."""
    profile = account.get("profile") or {}
    picture = {"account_id": account["_id"], "role": account["role"], "name": account["name"],
               "language": profile.get("language") or "zh-CN", "phone": profile.get("phone"),
               "community_id": profile.get("community_id"), "communities": list(account.get("communities") or ()),
               "family_of": sorted(family_of), "signs_in": account.get("password_hash") is not None,
               "disabled": bool(account.get("disabled_at"))}
    for field in ("channels", "quiet_hours"):
        if profile.get(field) is not None:
            picture[field] = profile[field]
    return picture


def homes_of(profile: dict | None) -> tuple[tuple[str, str, str], ...]:
    """Where an elder lives, for the family's token: each saved address (community, building, room), or only
    the profile's community when no address is saved; an order at the elder's subsidised price goes there."""
    profile = profile or {}
    homes = tuple((a["community_id"], a.get("building", ""), a.get("room", "")) for a in profile.get("addresses", ())
                  if a.get("community_id"))
    if not homes and profile.get("community_id"):
        homes = ((profile["community_id"], "", ""),)
    return homes

"""Prices by eligibility tier, each funder's share (the parts add up to the total), and the
funder ledger's charges for a paid order."""
from __future__ import annotations

from linli.domain_errors import Conflict, RuleBroken


def choose_tier(tiers: list[dict], tags: tuple[str, ...]) -> dict | None:
    """The cheapest tier the resident's verified tags qualify for."""
    eligible = [t for t in tiers or [] if t.get("tag") in tags]
    return min(eligible, key=lambda t: t["resident_pays_fen"]) if eligible else None


def _same(a: str, b: str) -> bool:
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def at_home(address: dict, homes) -> bool:
    """Whether an order's address is one of the elder's homes (community, building, room; "" matches any)."""
    return any(address.get("community_id") == community
               and (not building or _same(address.get("building", ""), building))
               and (not room or _same(address.get("room", ""), room)) for community, building, room in homes)


def check_subsidy_goes_home(tier: dict | None, price_fen: int, address: dict, homes, elder_name: str) -> None:
    """A family member orders at the elder's subsidised price only for delivery to where the elder lives:
    the subsidy is the elder's, not a discount for any address. Refused (not repriced) so the payer learns
    why at once, rather than meeting a different price at the cashier; ordering for themselves, at their own
    price, goes anywhere."""
    if tier is None or tier["resident_pays_fen"] >= price_fen:
        return
    if not homes:
        raise RuleBroken("address", f"{elder_name}'s subsidised price is for delivery to their home, and their profile "
                                    "has no address yet; ask them or the residents' committee to add it, or order "
                                    "for yourself at your own price")
    if not at_home(address, homes):
        raise RuleBroken("address", f"{elder_name}'s subsidised price is for delivery to their own home; use the "
                                    "address saved in their profile, or order for yourself at your own price")


def amount(price_fen: int, quantity: int, tier: dict | None = None) -> dict:
    """What the order costs, what the resident pays and what each funder owes; the parts add up to the total."""
    total = price_fen * quantity
    if tier is None:
        return {"base_price_fen": price_fen, "unit_price_fen": price_fen, "quantity": quantity, "total_fen": total,
                "payable_fen": total, "tier": None, "funders": []}
    funders = [{"funder": s["funder"], "amount_fen": s["amount_fen"] * quantity} for s in tier.get("shares", [])]
    payable = tier["resident_pays_fen"] * quantity
    if payable + sum(f["amount_fen"] for f in funders) != total:
        raise Conflict("This offer's prices are being corrected; please try later.", code="listing_unavailable")
    return {"base_price_fen": price_fen, "unit_price_fen": tier["resident_pays_fen"], "quantity": quantity,
            "total_fen": total, "payable_fen": payable, "tier": tier["tag"], "funders": funders}


def ledger_charges(order: dict) -> list[tuple[str, int]]:
    """Who owes what for a paid order: the resident, then each funder."""
    charges = [("resident", order["amount"]["payable_fen"])]
    charges += [(f["funder"], f["amount_fen"]) for f in order["amount"].get("funders", [])]
    return [(party, fen) for party, fen in charges if fen]


def reversal(order: dict, scope: str, amount_fen: int) -> list[tuple[str, int]]:
    """The ledger lines a refund takes back: "order" everything charged, "resident" only the resident's
    part, "payment" nothing (money that arrived for a closed order was never charged)."""
    if scope == "order":
        return [(party, -fen) for party, fen in ledger_charges(order)]
    if scope == "resident":
        return [("resident", -amount_fen)]
    return []


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"

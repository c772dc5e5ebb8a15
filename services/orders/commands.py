"""What people do to orders: one function per action, each taking the unit of work it runs in
and the person; it reads through the store, decides with the rules, writes through the store and
emits its events. The routes run them with `units.run`.

Residents place, pay, cancel and confirm; providers accept, decline, mark ready or done;
coordinators order for residents, cancel, send a failed delivery out again, and refund."""
from __future__ import annotations

from linli.auth import Principal, Relative
from linli.contracts import orders as contract
from linli.contracts.common import Builder
from linli.domain_errors import Conflict, Forbidden, NotFound, RuleBroken
from linli.ids import new_id
from linli.unit import Unit, Units

from . import money, saga, store
from .adapters.payments import PaymentProvider
from .rules import holds, moves, placing, pricing


def visible_order(u: Unit, who: Principal, order_id: str) -> dict:
    """The order if `who` may see it; NotFound otherwise (no hint that it exists)."""
    query = store.visible_to(who)
    order = None if query is None else store.visible_order(u, query, order_id)
    if order is None:
        raise NotFound("The order")
    return order


# -- placing -------------------------------------------------------------------------------------

def check_coordinator_order(who: Principal, body: dict) -> None:
    """A coordinator orders only for a named resident, at an address in a community it watches over."""
    if not body.get("for_resident_id"):
        raise RuleBroken("for_resident_id", "a coordinator orders for a resident: give the resident's account id")
    if not who.watches(body["address"]["community_id"]):
        raise RuleBroken("address.community_id", "you can order only for addresses in your own communities")


def place(u: Unit, who: Principal, body: dict, listing: dict, on_behalf: Relative | None = None,
          limits: holds.HoldLimits = holds.HoldLimits()) -> dict:
    """Places an order; `who` may be the resident, a family member with an approved link to them, or a
    coordinator (who gives the resident, `on_behalf`, as the gateway showed it to them). Nobody may hold
    more unpaid orders than `limits` allow: neither the resident nor whoever orders for them."""
    resident, ordered_by = who, None
    if body.get("for_resident_id") and body["for_resident_id"] != who.id:
        elder = on_behalf if on_behalf is not None else who.relative(body["for_resident_id"])
        if elder is None:
            raise RuleBroken("for_resident_id", "you have no approved family link to this resident")
        ordered_by = {"role": who.role, "id": who.id, "name": who.name}
        resident = Principal(id=elder.id, role="resident", name=elder.name, tags=elder.tags)
        if on_behalf is None:  # a family member; a coordinator orders only within the communities it watches
            pricing.check_subsidy_goes_home(pricing.choose_tier(listing.get("tiers", []), elder.tags),
                                            listing["price_fen"], body["address"], elder.homes, elder.name)
    order = placing.new_order(new_id("ord"), resident, ordered_by, body, listing, u.now)
    check_holds(u, limits, resident, ordered_by, order)
    store.add_order(u, order)
    store.emit(u, order["_id"], contract.order_placed(**placing.placed_event(order, listing)))
    return order


def check_holds(u: Unit, limits: holds.HoldLimits, resident: Principal, ordered_by: dict | None,
                order: dict) -> None:
    """Refuses an order that would give the resident, or whoever orders for them, more unpaid holds than
    the limits allow. Each account's hold record is touched first, so concurrent orders queue up."""
    accounts = [(resident.id, "resident")] + ([(ordered_by["id"], ordered_by["role"])] if ordered_by else [])
    for account_id, _ in sorted(accounts):
        store.hold_account(u, account_id)
    slot = order["slot"]
    for account_id, role in accounts:
        held = store.unpaid_held(u, account_id, role, order["listing"]["id"], slot["date"], slot["name"])
        holds.check(limits, held, for_someone_else=ordered_by is not None and account_id == resident.id)


# -- paying --------------------------------------------------------------------------------------

def pay(units: Units, provider: PaymentProvider, notify_url: str, who: Principal, order_id: str) -> dict:
    """Starts (or resumes) paying: the payment with its cashier page. A coordinator opens it only for an
    order a coordinator placed on a resident's behalf."""
    order = visible_order(units.read(), who, order_id)
    if who.role == "coordinator" and (order.get("ordered_by") or {}).get("role") != "coordinator":
        raise Forbidden("The resident pays for an order they placed themselves.")
    return money.start_payment(units, provider, notify_url, order, payer=who.id)


# -- the provider answers, then cooks or comes ---------------------------------------------------

def _provider_move(u: Unit, who: Principal, order_id: str, action: str, event: Builder | None, reason: str) -> dict:
    order = visible_order(u, who, order_id)
    moved = store.apply_move(u, order, action, who.role, who.id, reason)
    if event:
        store.emit(u, order_id, event(order_id=order_id, provider_id=order["provider"]["id"]))
    return moved


def accept(u: Unit, who: Principal, order_id: str) -> dict:
    return _provider_move(u, who, order_id, "accept", contract.order_accepted, "accepted by the provider")


def ready(u: Unit, who: Principal, order_id: str) -> dict:
    return _provider_move(u, who, order_id, "ready", contract.order_ready, "marked ready by the provider")


def done(u: Unit, who: Principal, order_id: str) -> dict:
    return _provider_move(u, who, order_id, "done", contract.order_service_done, "the provider says the job is done")


def decline(u: Unit, who: Principal, order_id: str, reason: str) -> dict:
    """The provider cannot take the order: it is cancelled, the portion released and the payment refunded."""
    order = visible_order(u, who, order_id)
    store.emit(u, order_id, contract.order_declined(order_id=order_id, provider_id=order["provider"]["id"],
                                                    reason=reason))
    return saga.cancel_with_compensation(u, order, "decline", who.role, who.id, f"declined by the provider: {reason}")


def complete(u: Unit, who: Principal, order_id: str) -> dict:
    """The resident confirms an on-site or remote service was done."""
    order = visible_order(u, who, order_id)
    moved = store.apply_move(u, order, "complete", who.role, who.id, "confirmed by the resident")
    saga.emit_completed(u, moved, None)
    return moved


# -- compensations people choose ------------------------------------------------------------------

def cancel(u: Unit, who: Principal, order_id: str, reason: str) -> dict:
    """A resident (before the provider accepts) or a coordinator (any time before completion) cancels."""
    order = visible_order(u, who, order_id)
    action = "revoke" if order["status"] in moves.sources_of("revoke") else "cancel"
    return saga.cancel_with_compensation(u, order, action, who.role, who.id, reason)


def redeliver(u: Unit, who: Principal, order_id: str, reason: str, address_fix: dict, remake: bool = False) -> dict:
    """The coordinator's first choice after a failed delivery: the meal goes out again, to a corrected
    address if it was wrong. An order whose meal had left the kitchen is ready again, or with `remake` back
    with the kitchen to make it again (accepted, with REMAKE_TIME to be ready); one whose meal never left
    keeps its state. Delivery puts the task back on offer on orders.order.redelivery_requested (after a
    remake, once the kitchen says it is ready)."""
    order = visible_order(u, who, order_id)
    problem = order.get("delivery_problem")
    if order["status"] not in moves.REDELIVERABLE:
        raise moves.refusal("redeliver", order["status"])
    if not problem:
        raise Conflict("This order has no failed delivery to send out again.", code="no_failed_delivery",
                       current_status=order["status"])
    action = "remake" if remake else "redeliver"
    if remake and order["status"] not in moves.sources_of(action):
        raise RuleBroken("remake", "the meal never left the kitchen; send it out again as it is")
    attempt = order.get("redeliveries", 0) + 2
    made_again = "; the kitchen makes it again" if remake else ""
    text = f"sent out again by the coordinator (delivery {attempt}{made_again}): {reason}"
    changes = {"delivery_problem": None, "courier": None, "redeliveries": attempt - 1,
               **{f"address.{k}": v for k, v in address_fix.items()}}
    if remake:
        changes["remake"] = {"at": u.now, "by": who.id, "reason": reason}
    undecided = {"delivery_problem.at": problem["at"]}  # two coordinators deciding at once: one decision
    if order["status"] in moves.sources_of(action):
        store.apply_move(u, order, action, who.role, who.id, text, changes, expect=undecided)
    elif not store.note(u, order, who.role, who.id, text, changes, expect={"status": order["status"], **undecided}):
        raise Conflict("Someone else decided about this delivery just now; load the order again.")
    store.emit(u, order_id, contract.order_redelivery_requested(
        order_id=order_id, task_id=problem.get("task_id"), attempt=attempt, reason=reason, dropoff=address_fix,
        community_id=order["address"]["community_id"], remake=remake))
    return store.order(u, order_id)  # the address was changed field by field: read it back


def refund(u: Unit, who: Principal, order_id: str, amount_fen: int, reason: str) -> dict:
    """A coordinator gives back part or all of what the resident paid."""
    visible_order(u, who, order_id)
    return money.refund_part(u, who, order_id, amount_fen, reason)

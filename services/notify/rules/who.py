"""WHO TO TELL: for each event, the notices it makes — their recipients, urgency and text.

The table is data. Each `Notice` names:
- `kind`: the text's key (rules/texts.py) and the message's kind in the inbox;
- `to`: recipient roles, resolved by the handler from notify's read model:
    resident            the order's resident (an elder who cannot sign in: see below)
    family              the resident's linked family members (approved links)
    provider            the owner account of the order's provider
    volunteer           the volunteer named by the event (delivery.task.offered: the offered one;
                        delivery.offer.withdrawn: the one whose offer ended), by the event's account_id
    coordinators        the coordinators of the community the event concerns
    account             the account named by the event (verifications)
- `when`: (field, value) the event's data must have for this notice (none: always);
- `urgency`: "urgent" (a deadline of minutes: goes out at once, quiet hours or not, and falls back
  to SMS when WeChat cannot carry it), "normal" (out on the person's channels, held back during
  quiet hours), "quiet" (in the app only: inbox and live stream).

An elder the committee enrolled without a smartphone (`signs_in: false`) cannot read an inbox:
whatever is addressed to them as `resident` goes to their linked family and to the committee's
board of their community (and by SMS to their own phone when they have one), so a meal is never
silently late.
"""
from __future__ import annotations

from dataclasses import dataclass

URGENT, NORMAL, QUIET = "urgent", "normal", "quiet"
URGENCIES = (URGENT, NORMAL, QUIET)
RECIPIENT_ROLES = ("resident", "family", "provider", "volunteer", "coordinators", "account")


@dataclass(frozen=True)
class Notice:
    kind: str
    to: tuple[str, ...]
    urgency: str
    when: tuple[str, str] | None = None

    def applies(self, data: dict) -> bool:
        return self.when is None or data.get(self.when[0]) == self.when[1]


# event type -> the notices it makes
TABLE: dict[str, tuple[Notice, ...]] = {
    "orders.order.awaiting_payment": (Notice("payment_due", ("resident",), URGENT),),
    "orders.order.paid": (
        Notice("payment_received", ("resident",), QUIET),
        Notice("new_order", ("provider",), URGENT),
    ),
    "orders.order.accepted": (Notice("order_accepted", ("resident",), NORMAL),),
    "orders.order.declined": (Notice("order_declined", ("resident",), NORMAL),),
    "orders.order.ready": (Notice("order_ready", ("resident",), QUIET),),
    "orders.order.service_done": (Notice("confirm_job", ("resident",), NORMAL),),
    "delivery.task.assigned": (Notice("volunteer_assigned", ("resident",), QUIET),),
    "delivery.task.picked_up": (Notice("out_for_delivery", ("resident",), NORMAL),),
    "delivery.task.delivered": (Notice("delivered", ("resident", "family"), NORMAL),),
    "orders.order.completed": (Notice("review_invitation", ("resident",), QUIET),),
    "orders.order.cancelled": (
        Notice("order_cancelled", ("resident",), NORMAL),
        Notice("order_cancelled_provider", ("provider",), NORMAL),
    ),
    "orders.order.refunded": (Notice("order_refunded", ("resident",), NORMAL),),
    "delivery.task.offered": (Notice("offer", ("volunteer",), URGENT),),
    "delivery.offer.withdrawn": (
        Notice("offer_withdrawn", ("volunteer",), QUIET, when=("reason", "taken")),
        Notice("offer_cancelled", ("volunteer",), QUIET, when=("reason", "cancelled")),
    ),
    "delivery.task.escalated": (Notice("escalated", ("coordinators",), URGENT),),
    "delivery.task.failed": (
        Notice("delivery_failed", ("resident",), NORMAL),
        Notice("delivery_failed_staff", ("coordinators",), URGENT),
    ),
    "delivery.task.welfare_check": (Notice("welfare_check", ("coordinators", "family"), URGENT),),
    "orders.order.deadline_missed": (
        Notice("deadline_missed", ("coordinators",), URGENT),
        Notice("deadline_missed_provider", ("provider",), NORMAL),
    ),
    "catalog.provider.verified": (Notice("provider_verified", ("account",), NORMAL),),
    "delivery.volunteer.verified": (Notice("volunteer_verified", ("account",), NORMAL),),
    "delivery.volunteer.refused": (Notice("volunteer_refused", ("account",), NORMAL),),
}

# events notify reads only to keep its read model (people, providers, volunteers, orders)
READ_MODEL_ONLY = ("gateway.account.registered", "gateway.account.updated", "orders.order.placed")


def notices(event_type: str, data: dict | None = None) -> tuple[Notice, ...]:
    """The notices an event makes (those whose `when` its data meets, when the data is given)."""
    return tuple(n for n in TABLE.get(event_type, ()) if data is None or n.applies(data))

# notices that need nothing but the event itself: an offer must reach the volunteer at once, even
# before notify has heard of its order (the order's title is added when notify knows it)
NEEDS_NO_ORDER = ("offer", "offer_withdrawn", "offer_cancelled")


def board_id(community_id: str) -> str:
    """The inbox of a community's committee: every coordinator of the community reads it."""
    return f"board:{community_id}"


def stream_recipients(person_id: str, role: str, communities) -> list[str]:
    """Whose messages a person's live stream carries: their own, and a coordinator's communities' boards."""
    return [person_id] + ([board_id(c) for c in communities] if role == "coordinator" else [])


def is_board(recipient: str) -> bool:
    return recipient.startswith("board:")


def reaches_resident_through_others(person: dict | None) -> bool:
    """An elder enrolled without a smartphone: their messages go to the family and the committee's board."""
    return person is not None and person.get("signs_in") is False


# -- the table as people read it (docs/DESIGN.md and the README carry this text; a test keeps them equal) --

WHEN = {URGENT: "urgent", NORMAL: "normal", QUIET: "quiet (in the app)"}


def markdown_table() -> str:
    """Who is told what, one line per notice, generated from TABLE (python -m services.notify.rules.who)."""
    from .texts import TEXTS

    lines = ["| event | who | what they read (en) | urgency |", "| --- | --- | --- | --- |"]
    for event_type, made in TABLE.items():
        for notice in made:
            when = f" (when {notice.when[0]} is {notice.when[1]})" if notice.when else ""
            lines.append(f"| `{event_type}`{when} | {', '.join(notice.to)} | {TEXTS[notice.kind]['en'][0]} "
                         f"(`{notice.kind}`) | {WHEN[notice.urgency]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())

"""Personal data in events (issue 12, item 8): every personal field an event schema carries is listed in
docs/DESIGN.md's table "Personal data in events", with the consumers that need it, and each of those
consumers does listen to that event. A personal field added to an event without a row there fails here;
so does a row naming a consumer that does not listen, or a field the event no longer carries."""
from __future__ import annotations

import re

from marshmallow import Schema, fields

from linli import topology
from linli.config import ROOT
from linli.contracts import REGISTRY

# the names under which a person's data travels: who they are, where they live, how to reach them, and the
# codes that prove a hand-over; what volunteers write about a visit
PERSONAL = {"name", "contact_name", "phone", "building", "room", "location", "emergency_contact", "relation",
            "pickup_code", "handover_code", "wechat_openid", "openid", "note", "address", "birth_year", "id_card"}
# the kitchen's own place (a business's public name, address and map point) is not a person's
NOT_A_PERSON = ("pickup.",)
TABLE_TITLE = "#### Personal data in events"


def _paths(schema: Schema, prefix: str = ""):
    for name, field in schema.fields.items():
        path = prefix + name
        yield path
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from _paths(inner.schema, path + ".")


def personal_fields(event_type: str) -> set[str]:
    return {p for p in _paths(REGISTRY[event_type]()) if p.split(".")[-1] in PERSONAL
            and not p.startswith(NOT_A_PERSON)}


def design_table() -> dict[str, tuple[set[str], set[str]]]:
    """event type -> (the personal fields listed, the consumers named) from docs/DESIGN.md."""
    text = (ROOT / "docs" / "DESIGN.md").read_text()
    assert TABLE_TITLE in text, f"docs/DESIGN.md has no {TABLE_TITLE!r}"
    rows = {}
    section = text.split(TABLE_TITLE, 1)[1].split("\n#", 1)[0]  # up to the next heading
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("event", "---"):
            continue
        listed = set(re.findall(r"`([a-z_.]+)`", cells[1]))
        consumers = set(re.findall(r"\b(catalog|orders|delivery|notify|gateway)\b:", cells[2]))
        for event_type in re.findall(r"`([a-z]+\.[a-z_]+\.[a-z_]+)`", cells[0]):
            rows[event_type] = (listed, consumers)
    return rows


def test_every_personal_field_of_every_event_is_listed_with_who_needs_it():
    table = design_table()
    carrying = {t for t in REGISTRY if personal_fields(t)}
    assert len(carrying) >= 4, "the walk found too few personal fields to trust this test"
    for event_type in sorted(carrying):
        assert event_type in table, f"{event_type} carries {sorted(personal_fields(event_type))}: add its row"
        listed, consumers = table[event_type]
        missing = personal_fields(event_type) - listed
        assert not missing, f"{event_type} carries {sorted(missing)}, which the table does not list"
        assert consumers, f"{event_type}: the table names nobody who needs its personal fields"
        listeners = {c for c, types in topology.subscriptions().items() if event_type in types}
        assert consumers <= listeners, f"{event_type}: {sorted(consumers - listeners)} do not even listen to it"


def test_the_table_lists_nothing_an_event_does_not_carry():
    for event_type, (listed, _) in design_table().items():
        assert event_type in REGISTRY, f"the table lists {event_type}, which is not an event"
        extra = listed - personal_fields(event_type)
        assert not extra, f"{event_type} does not carry {sorted(extra)}: take it out of the table"


def test_what_everyone_hears_of_a_paid_order_carries_no_address_phone_contact_or_code():
    """orders.order.paid goes to catalog and notify, which need none of it: the door, the phone and the codes
    go to delivery alone, in orders.delivery.requested."""
    assert personal_fields("orders.order.paid") == set()
    assert topology.subscriptions()["delivery"].count("orders.delivery.requested") == 1
    assert [c for c, types in topology.subscriptions().items() if "orders.delivery.requested" in types] == ["delivery"]
    assert "orders.order.paid" not in topology.subscriptions()["delivery"]
    assert "emergency_contact" not in personal_fields("delivery.task.welfare_check")

"""Every event type a service publishes or consumes has its schema in linli.events, and the
broker definitions in deploy/ match the topology the code declares."""
from __future__ import annotations

import ast
import json
from pathlib import Path

from linli import events, topology
from linli.config import ROOT, Settings

SERVICE_DIRS = [ROOT / "services" / name for name in ("catalog", "orders", "delivery")] + [ROOT / "gateway"]  # notify publishes nothing
# Announced with their consumer before their producer emits them. Once a producer publishes one, take it
# out of this set. (Empty: the gateway publishes its account events through its outbox now.)
AWAITING_PUBLISHER: set[str] = set()


def _published_types() -> dict[str, set[str]]:
    """Event-type string literals passed as arguments of a call (outbox.add, store.emit, ...), or paired with their
    data in a tuple to emit later, in each service."""
    found: dict[str, set[str]] = {}
    for service_dir in SERVICE_DIRS:
        for path in service_dir.rglob("*.py"):  # rooms live in subfolders too (rules/, handlers/, api/)
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    values = list(node.args) + [k.value for k in node.keywords]
                elif isinstance(node, ast.Tuple) and node.elts:  # ("catalog.provider.verified", {...}) emitted later
                    values = node.elts[:1]
                else:
                    continue
                literals = [a.value for a in values
                            if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.count(".") == 2
                            and a.value.split(".")[0] in ("catalog", "orders", "delivery", "gateway", "notify")]
                for literal in literals:
                    found.setdefault(literal, set()).add(service_dir.name)
    return found


def test_every_published_type_is_registered_and_published_by_its_owner():
    published = _published_types()
    assert len(published) >= 12, f"found too few publishers to trust this test: {sorted(published)}"
    for event_type, services in published.items():
        assert event_type in events.REGISTRY, f"{event_type} is published by {services} but has no schema"
        assert services == {event_type.split(".")[0]}, f"{event_type} must be published only by its owner"


def test_every_subscribed_type_is_registered_and_has_a_publisher():
    published = _published_types()
    for consumer, types in topology.SUBSCRIPTIONS.items():
        for event_type in types:
            assert event_type in events.REGISTRY, f"{consumer} listens to unregistered {event_type}"
            assert event_type in published or event_type in AWAITING_PUBLISHER, \
                f"{consumer} listens to {event_type}, which nobody publishes"


def test_types_awaiting_their_publisher_are_registered_and_not_yet_published():
    published = _published_types()
    for event_type in AWAITING_PUBLISHER:
        assert event_type in events.REGISTRY
        assert event_type not in published, f"{event_type} is published now: remove it from AWAITING_PUBLISHER"


def test_each_registered_schema_rejects_missing_fields():
    for event_type, schema in events.REGISTRY.items():
        required = [name for name, f in schema().fields.items() if f.required]
        assert required, f"{event_type} has no required field"
        assert schema().validate({}), f"{event_type} accepts an empty payload"


def test_the_envelope_carries_ids_and_times():
    envelope = events.make_envelope("test.thing.happened", {"n": 1}, "tests")
    assert events.parse_envelope(json.loads(json.dumps(envelope))) == envelope
    assert set(envelope) == {"id", "type", "version", "occurred_at", "source", "correlation_id", "causation_id", "data"}


def test_broker_definitions_in_deploy_match_the_code():
    committed = json.loads((ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text())
    assert committed == topology.definitions(Settings.from_env({})), \
        "regenerate with: .venv/bin/python -m linli.topology > deploy/rabbitmq/definitions.json"


def test_every_service_handler_table_matches_its_subscriptions():
    from services.catalog.handlers import HANDLERS as catalog
    from services.delivery.handlers import HANDLERS as delivery
    from services.notify.handlers import HANDLERS as notify
    from services.orders.handlers import HANDLERS as orders

    tables = {"catalog": catalog, "orders": orders, "delivery": delivery, "notify": notify}
    for consumer, types in topology.SUBSCRIPTIONS.items():
        assert set(tables[consumer]) == set(types), f"{consumer}: handlers and bindings differ"

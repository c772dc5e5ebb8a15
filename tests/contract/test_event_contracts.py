"""Every event type a service publishes or consumes has its schema in linli.events, and the
broker definitions in deploy/ match the topology the code declares."""
from __future__ import annotations

import ast
import json
import re

import pytest
from marshmallow import ValidationError

from linli import contracts, events, topology
from linli.config import ROOT, Settings
from linli.contracts.common import Builder, Event
from linli.unit import Unit

SERVICE_DIRS = [ROOT / "services" / name for name in ("catalog", "orders", "delivery")] + [ROOT / "gateway"]  # notify publishes nothing
# Announced with their consumer before their producer emits them. Once a producer publishes one, take it
# out of this set. (Empty: the gateway publishes its account events through its outbox now.)
AWAITING_PUBLISHER: set[str] = set()


BUILDERS = {module: {name: b for name, b in vars(getattr(contracts, module)).items() if isinstance(b, Builder)}
            for module in ("catalog", "orders", "delivery", "gateway", "testing")}
EVENT_TYPE = re.compile(r"^(catalog|orders|delivery|gateway|notify)\.[a-z_]+\.[a-z_]+$")


def _service_modules():
    for service_dir in SERVICE_DIRS:
        for path in service_dir.rglob("*.py"):  # rooms live in subfolders too (rules/, handlers/, api/)
            yield service_dir.name, path, ast.parse(path.read_text())


def _contract_aliases(tree: ast.AST) -> dict[str, str]:
    """The names a module gives linli's contracts modules: `from linli.contracts import orders as contract`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "linli.contracts":
            aliases.update({a.asname or a.name: a.name for a in node.names if a.name in BUILDERS})
    return aliases


def _published_types() -> dict[str, set[str]]:
    """The event types each service emits: the builders of linli.contracts it calls (`contract.order_paid(...)`,
    or a builder handed on to be called, like `contract.order_accepted`)."""
    found: dict[str, set[str]] = {}
    for service, _path, tree in _service_modules():
        aliases = _contract_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                builder = BUILDERS[aliases[node.value.id]].get(node.attr)
                assert builder is not None, f"{service} uses {node.value.id}.{node.attr}, which is no builder"
                found.setdefault(builder.type, set()).add(service)
    return found


def test_no_service_spells_an_event_type_where_it_emits():
    """Events are made by their contract's builder: no emit call is handed a type string, and no service
    spells a type it publishes anywhere (consumers' handler tables name the types of others)."""
    problems = []
    for service, path, tree in _service_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
                problems += [f"{path.relative_to(ROOT)}:{node.lineno} emits a {type(a.value).__name__} literal"
                             for a in list(node.args) + [k.value for k in node.keywords] if isinstance(a, ast.Constant)]
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and EVENT_TYPE.match(node.value)
                    and node.value.split(".")[0] == service):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno} spells its own event type {node.value!r}")
    assert problems == [], "use the builders of linli/contracts/<service>.py:\n" + "\n".join(problems)


def test_each_builder_is_named_for_its_type_and_makes_events_that_emit_accepts():
    for module, builders in BUILDERS.items():
        assert builders, f"linli/contracts/{module}.py has no builders"
        assert {b.type for b in builders.values()} == set(getattr(contracts, module).EVENTS), \
            f"{module}: every event type has exactly one builder"
        for name, builder in builders.items():
            assert builder.type.split(".", 1)[0] == ("test" if module == "testing" else module)
            assert name == builder.type.split(".", 1)[1].replace(".", "_"), f"{name} builds {builder.type}"
            with pytest.raises(ValidationError) as refused:
                builder()
            assert builder.type in refused.value.messages, "a refused payload names its event type"
    event = contracts.testing.thing_happened(n=3)
    assert event == Event("test.thing.happened", {"n": 3})
    with pytest.raises(ValidationError):
        contracts.testing.thing_happened(n="three")


def test_emit_takes_only_built_events():
    unit = Unit(db=None, session=object(), now=None, source="tests")
    with pytest.raises(TypeError, match="builder"):
        unit.emit("test.thing.happened", "x")


def test_every_published_type_is_registered_and_published_by_its_owner():
    published = _published_types()
    assert len(published) >= 12, f"found too few publishers to trust this test: {sorted(published)}"
    for event_type, services in published.items():
        assert event_type in events.REGISTRY, f"{event_type} is published by {services} but has no schema"
        assert services == {event_type.split(".")[0]}, f"{event_type} must be published only by its owner"


def test_every_subscribed_type_is_registered_and_has_a_publisher():
    published = _published_types()
    for consumer, types in topology.subscriptions().items():
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


def test_subscriptions_are_the_handlers_tables(monkeypatch):
    """Declared once: a consumer's queue is bound to exactly the event types its HANDLERS table handles, so a
    handler added is a binding added (and the broker definitions follow)."""
    import importlib

    for consumer, module in topology.CONSUMERS.items():
        assert topology.subscriptions()[consumer] == tuple(sorted(importlib.import_module(module).HANDLERS))
    catalog = importlib.import_module(topology.CONSUMERS["catalog"])
    monkeypatch.setattr(catalog, "HANDLERS", {**catalog.HANDLERS, "delivery.task.delivered": lambda u, e: None})
    topology.subscriptions.cache_clear()
    try:
        bound = {(b["destination"], b["routing_key"]) for b in topology.definitions(Settings.from_env({}))["bindings"]}
        assert ("linli.catalog", "delivery.task.delivered") in bound, sorted(bound)[:5]
    finally:
        topology.subscriptions.cache_clear()


def test_every_service_with_a_worker_is_a_consumer():
    workers = {p.parent.name for p in (ROOT / "services").glob("*/worker.py")}
    assert workers == set(topology.CONSUMERS), "list the new worker's handlers module in linli.topology.CONSUMERS"

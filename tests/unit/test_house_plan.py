"""The house plan (docs/DESIGN.md, "The house plan"), checked on the code's own imports and calls.

Every service folder has the same rooms; each room may import only what the plan allows; only
stores call the database; no service imports another; the shared library holds no service.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"catalog": ROOT / "services/catalog", "orders": ROOT / "services/orders",
            "delivery": ROOT / "services/delivery", "notify": ROOT / "services/notify", "gateway": ROOT / "gateway"}
# The services already built on the plan. A service joins when it has every room.
PLANNED: set[str] = {"catalog", "delivery", "gateway", "notify", "orders"}

# pymongo's collection and cursor methods that reach the database
DATABASE_CALLS = {"find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
                  "delete_one", "delete_many", "find_one_and_update", "find_one_and_delete",
                  "find_one_and_replace", "aggregate", "count_documents", "estimated_document_count", "distinct",
                  "bulk_write", "create_index", "create_indexes", "drop", "drop_index", "list_indexes", "watch"}
IO_MODULES = ("pymongo", "bson", "flask", "flask_smorest", "werkzeug", "kombu", "pika", "requests", "httpx",
              "linli.web", "linli.db", "linli.unit", "linli.outbox", "linli.relay", "linli.consumer",
              "linli.errors", "linli.config", "linli.topology")
HTTP_MODULES = ("flask", "flask_smorest", "werkzeug", "linli.web", "linli.errors")


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def _database_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATABASE_CALLS]


def _room(service: str, path: Path) -> str:
    rel = path.relative_to(SERVICES[service]).parts
    head = rel[0].removesuffix(".py")
    if head in ("rules", "commands", "handlers", "saga", "store", "api", "schemas", "bootstrap", "app", "worker",
                "adapters", "paystub", "__init__", "money", "admin"):
        return head
    return "other"


def _planned_modules():
    return [(service, path) for service in sorted(PLANNED) for path in _modules(SERVICES[service])]


def _touches(names: set[str], modules: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == m or n.startswith(m + ".") for m in modules))


def test_no_service_imports_another_and_the_shared_library_imports_none():
    problems = []
    for service, folder in SERVICES.items():
        others = [f"services.{s}" if s != "gateway" else "gateway" for s in SERVICES if s != service]
        for path in _modules(folder):
            problems += [f"{path.relative_to(ROOT)} imports {n}" for n in _touches(_imports(path), tuple(others))]
    for path in _modules(ROOT / "linli"):
        problems += [f"{path.relative_to(ROOT)} imports {n}"
                     for n in _touches(_imports(path), ("services", "gateway", "web"))]
    assert problems == []


def test_every_planned_service_has_every_room_and_nothing_else():
    for service in sorted(PLANNED):
        folder = SERVICES[service]
        rooms = {_room(service, p) for p in _modules(folder)}
        missing = {"rules", "commands", "store", "api", "bootstrap", "app"} - rooms
        assert not missing, f"{service} lacks {sorted(missing)}"
        assert "other" not in rooms, [str(p.relative_to(ROOT)) for p in _modules(folder) if _room(service, p) == "other"]
        if service != "gateway":
            assert {"handlers", "saga"} & rooms, f"{service} has no room for what events and timers do"


def test_rules_do_no_io():
    problems = []
    for service, path in _planned_modules():
        if _room(service, path) == "rules":
            own = tuple(f"{'services.' if service != 'gateway' else ''}{service}.{r}"
                        for r in ("store", "api", "commands", "handlers", "saga", "bootstrap", "adapters", "money"))
            problems += [f"{path.relative_to(ROOT)} imports {n}" for n in _touches(_imports(path), IO_MODULES + own)]
    assert problems == []


def test_commands_handlers_stores_and_rules_speak_no_http():
    problems = []
    for service, path in _planned_modules():
        if _room(service, path) in ("commands", "handlers", "saga", "money", "store", "rules"):
            problems += [f"{path.relative_to(ROOT)} imports {n}" for n in _touches(_imports(path), HTTP_MODULES)]
    assert problems == []


def test_only_stores_call_the_database():
    calls = []
    for service, path in _planned_modules():
        if _room(service, path) != "store" and path.name != "store.py":
            calls += _database_calls(path)
    assert calls == []

"""Structural checks of docker-compose.yml and deploy/k8s.

No Docker engine runs where the tests run, so these catch what would otherwise only show
on `docker compose up`: a command naming a module that is not there, a service missing
its connection settings, a dependency on a service that does not exist.
"""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_DIR = ROOT / "deploy" / "k8s"

LINLI_SERVICES = ("catalog", "orders", "delivery", "notify", "gateway")  # what `--service` may name (the gateway has a relay too)
REQUIRED_ENV = ("MONGO_URL", "AMQP_URL", "LINLI_NAMESPACE")


def _load_compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


# Loaded at collection so that every service becomes a test case of its own, named for it.
COMPOSE = _load_compose()
SERVICES: dict[str, dict] = COMPOSE.get("services") or {}


def _is_python(spec: dict) -> bool:
    # The infrastructure containers use public images; everything built here is Linli code.
    return "build" in spec or str(spec.get("image", "")).startswith("linli")


PYTHON_SERVICES = sorted(name for name, spec in SERVICES.items() if _is_python(spec))


def _argv(command) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def _environment(spec: dict) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _depends_on(spec: dict) -> list[str]:
    deps = spec.get("depends_on") or []
    return list(deps) if isinstance(deps, (list, dict)) else [deps]


def _module_problem(module: str) -> str | None:
    """Why `python -m module` would fail to find it, or None."""
    base = ROOT.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file() or (base / "__main__.py").is_file():
        return None
    return f"module {module!r} not found: neither {base.with_suffix('.py').relative_to(ROOT)} " \
           f"nor {(base / '__main__.py').relative_to(ROOT)} exists"


def _gunicorn_problems(argv: list[str]) -> list[str]:
    problems = []
    if "-c" in argv:
        conf = argv[argv.index("-c") + 1] if argv.index("-c") + 1 < len(argv) else ""
        if not (ROOT / conf).is_file():
            problems.append(f"gunicorn config {conf!r} does not exist")
    apps = [a for a in argv[1:] if ":" in a and not a.startswith("-")]
    if len(apps) != 1:
        return problems + [f"expected one 'package.module:factory()' argument, found {apps!r}"]
    module, factory = apps[0].split(":", 1)
    factory = factory.split("(", 1)[0].strip()
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    if not path.is_file():
        problems.append(f"app module {module!r} not found: {path.relative_to(ROOT)} does not exist")
    elif f"def {factory}" not in path.read_text(encoding="utf-8"):
        problems.append(f"{path.relative_to(ROOT)} has no 'def {factory}'")
    return problems


def _command_problems(argv: list[str]) -> list[str]:
    if not argv:
        return ["has no command (the image's default would run the gateway in its place)"]
    program = Path(argv[0]).name
    if program == "gunicorn":
        problems = _gunicorn_problems(argv)
    elif program.startswith("python") and "-m" in argv:
        i = argv.index("-m")
        if i + 1 >= len(argv):
            return [f"'-m' without a module in {argv!r}"]
        problem = _module_problem(argv[i + 1])
        problems = [problem] if problem else []
    else:
        return [f"command {argv!r} is neither 'python -m ...' nor 'gunicorn ...'"]
    if "--service" in argv:
        i = argv.index("--service")
        value = argv[i + 1] if i + 1 < len(argv) else None
        if value not in LINLI_SERVICES:
            problems.append(f"--service {value!r} is not one of {LINLI_SERVICES}")
    return problems


def test_compose_has_services():
    assert SERVICES, f"{COMPOSE_FILE.name} defines no services"
    assert PYTHON_SERVICES, f"{COMPOSE_FILE.name} defines no Linli (Python) services"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_has_image_or_build(name):
    spec = SERVICES[name]
    assert spec.get("image") or spec.get("build"), f"service {name!r} has neither 'image' nor 'build'"


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_python_command_refers_to_existing_code(name):
    argv = _argv(SERVICES[name].get("command"))
    problems = _command_problems(argv)
    assert not problems, f"service {name!r} ({' '.join(argv)}): " + "; ".join(problems)


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_python_service_has_connection_settings(name):
    env = _environment(SERVICES[name])
    missing = [key for key in REQUIRED_ENV if not env.get(key)]
    assert not missing, f"service {name!r} lacks environment {missing}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_depends_on_targets_exist(name):
    unknown = [dep for dep in _depends_on(SERVICES[name]) if dep not in SERVICES]
    assert not unknown, f"service {name!r} depends on undefined services {unknown}"


def test_mongo_init_initiates_the_replica_set():
    assert "mongo-init" in SERVICES, "there is no 'mongo-init' service"
    command = SERVICES["mongo-init"].get("command")
    text = command if isinstance(command, str) else " ".join(_argv(command))
    assert "rs.initiate" in text, f"service 'mongo-init' does not run rs.initiate: {text!r}"
    assert "rs0" in text, "service 'mongo-init' does not initiate the replica set 'rs0'"


def _published_ports(spec: dict) -> set[int]:
    published = set()
    for port in spec.get("ports") or []:
        if isinstance(port, dict):  # long syntax
            if port.get("published") is not None:
                published.add(int(str(port["published"]).split("-")[0]))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) >= 2:  # "[ip:]host:container"; a lone port gets a random host port
            published.add(int(parts[-2].split("-")[0]))
    return published


def test_gateway_publishes_8000():
    assert "gateway" in SERVICES, "there is no 'gateway' service"
    assert 8000 in _published_ports(SERVICES["gateway"]), \
        f"service 'gateway' does not publish port 8000: ports={SERVICES['gateway'].get('ports')!r}"


K8S_FILES = sorted(p for p in K8S_DIR.glob("*") if p.suffix in (".yaml", ".yml")) if K8S_DIR.is_dir() else []


def test_k8s_manifests_exist():
    assert K8S_FILES, f"no Kubernetes manifests in {K8S_DIR.relative_to(ROOT)}"


@pytest.mark.parametrize("path", K8S_FILES, ids=lambda p: p.name)
def test_k8s_manifest_documents(path):
    with path.open(encoding="utf-8") as f:
        try:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as error:
            pytest.fail(f"{path.name} is not valid YAML: {error}")
    assert documents, f"{path.name} holds no documents"
    for i, doc in enumerate(documents):
        where = f"{path.name}, document {i + 1}"
        assert isinstance(doc, dict), f"{where} is not a mapping"
        missing = [key for key in ("apiVersion", "kind") if not doc.get(key)]
        if not (doc.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        assert not missing, f"{where} ({doc.get('kind', '?')}) lacks {missing}"


# -- secrets: each process holds only what it needs -------------------------------------------

def _volume_names(spec: dict) -> set[str]:
    return {str(v).split(":", 1)[0] if isinstance(v, str) else v.get("source") for v in spec.get("volumes") or []}


def test_only_the_gateway_and_the_key_generator_mount_the_signing_key():
    holders = sorted(name for name, spec in SERVICES.items() if "linli-jwt-private" in _volume_names(spec))
    assert holders == ["gateway", "keys"]


def test_only_orders_mounts_the_payment_keys():
    holders = sorted(name for name, spec in SERVICES.items() if "linli-payment" in _volume_names(spec))
    assert holders == ["keys", "orders-web", "orders-worker"]


def test_relays_and_other_workers_mount_no_keys():
    for name in ("catalog-relay", "orders-relay", "delivery-relay", "gateway-relay", "catalog-worker",
                 "delivery-worker"):
        assert not _volume_names(SERVICES[name]), f"{name} mounts {_volume_names(SERVICES[name])}"


def test_rabbitmq_is_reached_only_on_compose_network_with_its_own_credentials():
    rabbit = SERVICES["rabbitmq"]
    for port in rabbit.get("ports") or []:
        assert str(port).startswith("127.0.0.1:"), f"RabbitMQ publishes {port} beyond this host's loopback"
    assert 5672 not in _published_ports(rabbit), "AMQP must not be published at all"
    env = _environment(rabbit)
    assert env.get("RABBITMQ_DEFAULT_USER") not in (None, "", "guest")
    assert "LINLI_RABBITMQ_PASSWORD" in env.get("RABBITMQ_DEFAULT_PASS", "")
    for name in PYTHON_SERVICES:
        assert "guest:guest" not in _environment(SERVICES[name]).get("AMQP_URL", ""), name


def _k8s_deployments() -> dict[str, dict]:
    out = {}
    for path in K8S_FILES:
        with path.open(encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "Deployment":
                    out[doc["metadata"]["name"]] = doc
    return out


def _k8s_keys(deployment: dict) -> set[str]:
    keys = set()
    for volume in deployment["spec"]["template"]["spec"].get("volumes") or []:
        secret = volume.get("secret") or {}
        if secret.get("secretName") == "linli-keys":
            items = secret.get("items")
            assert items, f"{deployment['metadata']['name']} mounts every key of linli-keys"
            keys |= {item["key"] for item in items}
    return keys


def test_k8s_pods_mount_only_the_keys_they_need():
    held = {name: _k8s_keys(d) for name, d in _k8s_deployments().items()}
    assert [name for name, keys in held.items() if "jwt_private.pem" in keys] == ["gateway"]
    assert sorted(name for name, keys in held.items() if "payment_apiv3_key" in keys) == ["orders-web",
                                                                                         "orders-worker"]
    assert all(not keys for name, keys in held.items() if name.endswith("-relay"))


def test_the_deploy_files_say_production_and_that_the_stub_runs_as_an_explicit_demo():
    """Orders refuses the stub payment provider in production unless LINLI_DEMO says it is a demo: both
    deploy files say all three, so a real deployment is one setting away and never the stub by accident."""
    from linli.config import Settings
    from services.orders.bootstrap import payment_provider

    compose_env = COMPOSE["x-linli-env"]
    with (K8S_DIR / "config.yaml").open(encoding="utf-8") as f:
        k8s_env = next(d for d in yaml.safe_load_all(f) if d and d.get("kind") == "ConfigMap")["data"]
    for env in (compose_env, k8s_env):
        assert (env["LINLI_ENV"], env["LINLI_PAYMENT_PROVIDER"], str(env["LINLI_DEMO"])) == ("production", "stub", "1")
        payment_provider(Settings.from_env({k: str(v) for k, v in env.items()}))  # starts: a declared demo
    for name, deployment in _k8s_deployments().items():
        if name.startswith("orders-"):
            sources = [c.get("envFrom", []) for c in deployment["spec"]["template"]["spec"]["containers"]]
            assert any(s.get("configMapRef", {}).get("name") == "linli-config" for ss in sources for s in ss), name

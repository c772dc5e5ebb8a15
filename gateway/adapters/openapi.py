"""One API description: the gateway's own spec merged with each service's, internal routes left out."""
from __future__ import annotations

import requests

from linli.config import settings

SERVICES = ("catalog", "orders", "delivery")
_REF = "#/components/schemas/"


def _rename_refs(node, prefix: str):
    if isinstance(node, dict):
        return {k: (_REF + prefix + v[len(_REF):] if k == "$ref" and isinstance(v, str) and v.startswith(_REF)
                    else _rename_refs(v, prefix)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, prefix) for v in node]
    return node


def merged(own: dict) -> tuple[dict, list[str]]:
    """The merged spec, and the services whose spec could not be fetched."""
    spec = {**own, "paths": dict(own.get("paths", {})),
            "components": {**own.get("components", {}), "schemas": dict(own.get("components", {}).get("schemas", {}))},
            "tags": list(own.get("tags", []))}
    spec["info"] = {**own.get("info", {}), "title": "Linli API"}
    missing = []
    for service in SERVICES:
        try:
            response = requests.get(f"{settings().service_urls[service]}/openapi.json", timeout=3)
            response.raise_for_status()
            part = response.json()
        except (requests.RequestException, ValueError):
            missing.append(service)
            continue
        prefix = service.capitalize()
        part = _rename_refs(part, prefix)
        for path, item in part.get("paths", {}).items():
            if path.startswith("/api/"):
                spec["paths"][path] = item
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            spec["components"]["schemas"][prefix + name] = schema
        spec["tags"] += [t for t in part.get("tags", []) if t not in spec["tags"]]
    return spec, missing

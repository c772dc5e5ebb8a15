"""The gateway's path rule on its own: one reading of a path, or none."""
from __future__ import annotations

import pytest

from gateway.rules import paths
from linli.domain_errors import NotFound


@pytest.mark.parametrize("path,raw", [
    ("/api/v1/catalog/../internal/v1/listings/x", None),
    ("/api/v1/catalog/./listings", None),
    ("/api/v1/catalog/listings/..", None),
    ("/api/v1/catalog//listings", None),
    ("/api/v1/catalog/a\\b", None),
    ("/api/v1/catalog/%2e%2e/x", None),                      # what a double-encoded dot decodes to once
    ("/api/v1/catalog/listings/x\x00", None),
    ("/api/v1/catalog/Internal/v1/listings/x", None),
    ("/api/v1/catalog/listings/x", "/api/v1/catalog/listings%2Fx"),
    ("/api/v1/catalog/listings/x", "/api/v1/catalog/%2E%2e/listings/x"),
    ("/api/v1/catalog/listings/x", "/api/v1/catalog/listings/x%5c"),
    ("/api/v1/catalogue/listings", None),
    ("/api/v2/catalog/listings", None),
    ("/api/v1", None),
])
def test_paths_that_could_be_read_two_ways_or_are_not_public_are_not_found(path, raw):
    with pytest.raises(NotFound):
        paths.public_route(path, raw)


def test_a_public_path_is_its_service_prefix_and_checked_segments():
    route = paths.public_route("/api/v1/payments/stub/pay_1/", "/api/v1/payments/stub/pay_1/?x=%2e%2e")
    assert (route.service, route.prefix, route.segments) == ("orders", "payments", ("stub", "pay_1"))
    assert paths.public_route("/api/v1/orders").segments == ()
    assert paths.public_route("/api/v1/catalog/listings/午饭").segments == ("listings", "午饭")


def test_only_identifiers_pass_as_ids():
    assert paths.an_id("ord_0123456789abcdef0123", "The order") == "ord_0123456789abcdef0123"
    for bad in ("ord_X?date=2030-01-01&x=", "../x", "a/b", "", "x" * 65, "ord X", "ord#x"):
        with pytest.raises(NotFound):
            paths.an_id(bad, "The order")

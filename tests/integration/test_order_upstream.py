"""Orders' internal calls are built from parts (issue 12, item 6): an id goes into the path as one
quoted segment, everything else as query parameters, and an id that is not an id is refused with
the field named before any other service is asked. A fake catalog and gateway record what they hear."""
from __future__ import annotations

import dataclasses
import json
import threading
from datetime import date, timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from devstack.net import free_port
from linli.domain_errors import RuleBroken
from services.orders import store
from services.orders.adapters.upstream import Upstream
from services.orders.app import create_app
from tests.integration import orders_kit as kit

INJECTIONS = ("lst_X?date={later}&slot=lunch&x=", "lst_1/../lst_2", "lst_1%3Fdate%3D2099-01-01", "lst_1#x",
              "../internal/v1/listings/lst_1", "lst_1\n")


class FakeUpstream:
    """Catalog's internal listing read and the gateway's account read, recording every request."""

    def __init__(self):
        self.heard: list[Request] = []
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @Request.application
    def app(self, request: Request) -> Response:
        self.heard.append(request)
        if request.path == "/internal/v1/listings/lst_1":
            return Response(json.dumps(kit.listing(tiers=kit.TIERS)), content_type="application/json")
        if request.path == "/api/v1/accounts/acc_elder":
            return Response(json.dumps({"id": "acc_elder", "name": "Grandpa Zhou", "tags": ["elder70"]}),
                            content_type="application/json")
        return Response(json.dumps({"error": {"code": "not_found"}}), status=404, content_type="application/json")


@pytest.fixture
def upstream(mongo_env):
    fake = FakeUpstream()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def client(upstream):
    orders = kit.orders()
    return create_app(dataclasses.replace(orders, upstream=Upstream(upstream.url, upstream.url, 5))).test_client()


def _order(listing_id: str, **more) -> dict:
    return {**kit.body(), "slot_date": date.today().isoformat(), "listing_id": listing_id, **more}


def test_an_id_that_is_not_an_id_is_refused_naming_the_field_and_nobody_is_asked(client, upstream):
    later = (date.today() + timedelta(days=7)).isoformat()
    for listing_id in INJECTIONS:
        answer = client.post("/api/v1/orders", json=_order(listing_id.format(later=later)),
                             headers=kit.token(kit.RESIDENT))
        assert answer.status_code == 422, listing_id
        assert list(answer.get_json()["error"]["details"]) == ["listing_id"], listing_id
    on_behalf = client.post("/api/v1/orders", json=_order("lst_1", for_resident_id="acc_elder?x=1"),
                            headers=kit.token(kit.COORDINATOR))
    assert on_behalf.status_code == 422 and list(on_behalf.get_json()["error"]["details"]) == ["for_resident_id"]
    assert upstream.heard == [] and store.database().orders.count_documents({}) == 0


def test_a_good_id_reaches_catalog_as_one_path_segment_with_the_slot_as_parameters(client, upstream):
    placed = client.post("/api/v1/orders", json=_order("lst_1"), headers=kit.token(kit.RESIDENT))
    assert placed.status_code == 201, placed.get_json()
    [heard] = upstream.heard
    assert heard.path == "/internal/v1/listings/lst_1"
    assert heard.args.to_dict(flat=False) == {"date": [date.today().isoformat()], "slot": ["lunch"]}

    coordinator = client.post("/api/v1/orders", json=_order("lst_1", for_resident_id="acc_elder"),
                              headers=kit.token(kit.COORDINATOR))
    assert coordinator.status_code == 201, coordinator.get_json()
    assert [r.path for r in upstream.heard[1:]] == ["/api/v1/accounts/acc_elder", "/internal/v1/listings/lst_1"]
    assert coordinator.get_json()["resident_id"] == "acc_elder" and coordinator.get_json()["amount"]["tier"] == "elder70"


def test_the_adapter_quotes_every_part_and_refuses_ids_itself(upstream):
    reads = Upstream(upstream.url, upstream.url, 5)
    reads.listing_snapshot("lst_1", "2026-01-01", "lunch&date=2099-01-01")
    heard = upstream.heard[-1]
    assert heard.path == "/internal/v1/listings/lst_1"
    assert heard.args.to_dict(flat=False) == {"date": ["2026-01-01"], "slot": ["lunch&date=2099-01-01"]}, \
        "a slot cannot add a parameter"
    for listing_id in INJECTIONS:
        with pytest.raises(RuleBroken) as refused:
            reads.listing_snapshot(listing_id, "2026-01-01", "lunch")
        assert refused.value.field == "listing_id"
    with pytest.raises(RuleBroken) as refused:
        reads.resident_for_coordinator("acc_1/../../internal", "Bearer x")
    assert refused.value.field == "for_resident_id"
    assert len(upstream.heard) == 1

"""What the event tables keep, and for how long: sent events a week, handled event ids 30 days;
unsent events are never removed."""
from __future__ import annotations

from linli import outbox
from services.orders import store


def test_sent_events_and_handled_ids_expire_but_unsent_events_never_do(mongo_env):
    db = store.database()
    store.prepare(db)
    expiring = {tuple(k for k, _ in spec["key"]): spec.get("expireAfterSeconds")
                for coll in (db.outbox, db.inbox) for spec in coll.index_information().values()}
    assert expiring[("sent_at",)] == 7 * 24 * 3600 == outbox.SENT_KEPT_SECONDS
    assert expiring[("handled_at",)] == 30 * 24 * 3600
    # a TTL index only removes documents that have the field: an unsent event has no sent_at
    from linli.db import in_transaction
    in_transaction(db, lambda s: outbox.add(db, s, source="orders", event_type="orders.order.ready",
                                            data={"order_id": "o1", "provider_id": "p1"}, aggregate="order:o1"))
    assert "sent_at" not in db.outbox.find_one({"aggregate": "order:o1"})

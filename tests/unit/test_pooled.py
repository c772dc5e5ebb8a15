"""linli.pooled: a request whose kept-alive connection the server closed as it went out is asked once more, only
when a repeat changes nothing twice (a read, or a change with an Idempotency-Key)."""
from __future__ import annotations

import pytest
import requests

from linli import pooled


class Pool:
    """A session whose first `drops` requests meet a connection the server had just closed."""

    def __init__(self, drops: int, error: Exception | None = None):
        self.drops, self.error, self.sent = drops, error, []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url, kwargs.get("headers")))
        if len(self.sent) <= self.drops:
            raise self.error or requests.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end "
                                                         "closed connection without response'))")
        return f"answer {len(self.sent)}"


@pytest.mark.parametrize("method, headers", [("GET", {}), ("HEAD", None), ("POST", {"Idempotency-Key": "k1"}),
                                             ("PUT", {"idempotency-key": "k2"})])
def test_a_repeatable_request_is_asked_once_more_on_a_fresh_connection(method, headers):
    pool = Pool(drops=1)
    assert pooled.request(pool, method, "http://orders/x", headers=headers) == "answer 2"
    assert len(pool.sent) == 2 and pool.sent[0] == pool.sent[1]  # the same request, the same key


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_change_without_a_key_is_never_sent_twice(method):
    pool = Pool(drops=1)
    with pytest.raises(requests.ConnectionError):
        pooled.request(pool, method, "http://orders/x", headers={"Authorization": "Bearer t"})
    assert len(pool.sent) == 1


def test_only_once_more_and_not_after_a_timeout():
    twice = Pool(drops=2)
    with pytest.raises(requests.ConnectionError):
        pooled.request(twice, "GET", "http://orders/x", headers={})
    assert len(twice.sent) == 2  # a service that is really down is not asked a third time
    slow = Pool(drops=1, error=requests.ConnectTimeout("connect timeout"))
    with pytest.raises(requests.ConnectTimeout):
        pooled.request(slow, "GET", "http://orders/x", headers={})
    assert len(slow.sent) == 1  # a service that does not answer at all is not waited for twice

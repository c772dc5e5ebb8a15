"""The payment notification's signature check: tampering and staleness are refused."""
import pytest

from services.orders import signing

SECRET = b"s" * 32
BODY = b'{"resource": {"out_trade_no": "ord_1-p1", "amount": {"total": 1500}}}'
NOW = 1_800_000_000


def test_a_genuine_notification_passes_and_yields_its_nonce():
    headers = signing.sign(SECRET, BODY, NOW)
    assert signing.verify(SECRET, headers, BODY, NOW + 10) == headers[signing.HEADER_NONCE]


def test_a_tampered_body_is_refused():
    headers = signing.sign(SECRET, BODY, NOW)
    with pytest.raises(signing.SignatureRejected, match="bad signature"):
        signing.verify(SECRET, headers, BODY.replace(b"1500", b"1"), NOW)


@pytest.mark.parametrize("header", [signing.HEADER_TIMESTAMP, signing.HEADER_NONCE])
def test_a_changed_timestamp_or_nonce_breaks_the_signature(header):
    headers = signing.sign(SECRET, BODY, NOW)
    headers[header] = str(NOW + 1) if header == signing.HEADER_TIMESTAMP else "another-nonce"
    with pytest.raises(signing.SignatureRejected, match="bad signature"):
        signing.verify(SECRET, headers, BODY, NOW)


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_a_stale_or_future_timestamp_is_refused(age):
    headers = signing.sign(SECRET, BODY, NOW)
    with pytest.raises(signing.SignatureRejected, match="stale"):
        signing.verify(SECRET, headers, BODY, NOW + age)


def test_another_key_or_missing_headers_are_refused():
    headers = signing.sign(b"x" * 32, BODY, NOW)
    with pytest.raises(signing.SignatureRejected):
        signing.verify(SECRET, headers, BODY, NOW)
    with pytest.raises(signing.SignatureRejected, match="missing"):
        signing.verify(SECRET, {}, BODY, NOW)

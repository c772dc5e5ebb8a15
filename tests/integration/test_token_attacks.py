"""Token attacks against a service (each verifies tokens itself): every one is refused with 401."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from linli.auth import ALGORITHM, AUDIENCE, ISSUER, issue_access_token, key_id
from linli.ids import utcnow
from linli.keys import private_key_pem, public_key_pem


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**over):
    now = int(utcnow().timestamp())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "acc_victim", "role": "coordinator", "name": "X", "iat": now,
            "exp": now + 300, **over}


def _hs256_with_public_key() -> str:
    """The classic confusion attack, made by hand: PyJWT itself refuses to HMAC with a PEM key."""
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': key_id(public_key_pem())})}.{_b64(_claims())}"
    mac = hmac.new(public_key_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _signed(claims: dict, key=None, headers=None) -> str:
    return jwt.encode(claims, key or private_key_pem(), algorithm=ALGORITHM,
                      headers=headers if headers is not None else {"kid": key_id(public_key_pem())})


def attacks() -> dict[str, str]:
    good = issue_access_token("acc_resident", "resident", "Wang")
    head, body, sig = good.split(".")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forged_claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged_claims["role"] = "coordinator"
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': key_id(public_key_pem())})}.{_b64(_claims())}.",
        "HS256 signed with the public key": _hs256_with_public_key(),
        "expired": _signed(_claims(exp=int(utcnow().timestamp()) - 1)),
        "wrong audience": _signed(_claims(aud="someone-else")),
        "wrong issuer": _signed(_claims(iss="mallory")),
        "no subject": _signed({k: v for k, v in _claims().items() if k != "sub"}),
        "tampered payload": f"{head}.{_b64(forged_claims)}.{sig}",
        "unknown key id": _signed(_claims(), headers={"kid": "not-ours"}),
        "signed by another key": _signed(_claims(), key=other_key),
        "unknown role": _signed(_claims(role="superuser")),
        "garbage": "not-a-token",
    }


@pytest.fixture
def orders_app(mongo_env):
    from services.orders.app import create_app

    return create_app().test_client()


def test_every_attack_is_refused_with_401_and_a_real_token_works(orders_app):
    for name, token in attacks().items():
        response = orders_app.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.get_json()["error"]["code"] == "unauthenticated", name
    genuine = issue_access_token("acc_resident", "resident", "Wang")
    assert orders_app.get("/api/v1/orders", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200

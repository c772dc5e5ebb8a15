"""Signing keys: from the environment's files, or generated into var/keys on first run."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .config import Settings, settings


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ensure_keys(cfg: Settings | None = None) -> None:
    """Creates the JWT key pair and the payment-notification secret when they do not exist."""
    cfg = cfg or settings()
    if not cfg.jwt_private_key_file.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(cfg.jwt_private_key_file, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        cfg.jwt_public_key_file.write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    secret_file = cfg.var_dir / "keys" / "payment_secret"
    if cfg.payment_secret is None and not secret_file.exists():
        _write_private(secret_file, secrets.token_hex(32).encode())


def payment_secret(cfg: Settings | None = None) -> bytes:
    cfg = cfg or settings()
    if cfg.payment_secret:
        return cfg.payment_secret.encode()
    return (cfg.var_dir / "keys" / "payment_secret").read_bytes().strip()


def private_key_pem(cfg: Settings | None = None) -> bytes:
    return (cfg or settings()).jwt_private_key_file.read_bytes()


def public_key_pem(cfg: Settings | None = None) -> bytes:
    return (cfg or settings()).jwt_public_key_file.read_bytes()

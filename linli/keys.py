"""Signing keys: from the environment's files, or generated into var/keys on first run."""
from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .config import Settings, settings


@lru_cache(maxsize=16)
def _read(path: Path, _mtime_ns: int) -> bytes:
    return path.read_bytes()


def read_key(path: Path) -> bytes:
    """A key file's bytes, read once per version of the file: every request verifies a token with it."""
    return _read(path, path.stat().st_mtime_ns)


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
    apiv3_file = cfg.var_dir / "keys" / "payment_apiv3_key"
    if cfg.payment_apiv3_key is None and not apiv3_file.exists():
        _write_private(apiv3_file, secrets.token_hex(16).encode())  # 32 characters, like an APIv3 key
    platform = cfg.var_dir / "keys" / "paystub_platform_private.pem"
    if not platform.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(platform, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        platform.with_name("paystub_platform_public.pem").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def payment_apiv3_key(cfg: Settings | None = None) -> bytes:
    """The merchant's APIv3 key: decrypts payment notifications (32 bytes for AES-256-GCM)."""
    cfg = cfg or settings()
    if cfg.payment_apiv3_key:
        return cfg.payment_apiv3_key.encode()
    return read_key(cfg.var_dir / "keys" / "payment_apiv3_key").strip()


def paystub_platform_private_key(cfg: Settings | None = None):
    """The stub payment provider's own signing key (a real provider keeps this to itself)."""
    cfg = cfg or settings()
    return serialization.load_pem_private_key(
        read_key(cfg.var_dir / "keys" / "paystub_platform_private.pem"), password=None)


def paystub_platform_public_pem(cfg: Settings | None = None) -> bytes:
    """The platform certificate's public key, which the merchant uses to check notifications."""
    cfg = cfg or settings()
    return read_key(cfg.var_dir / "keys" / "paystub_platform_public.pem")


def private_key_pem(cfg: Settings | None = None) -> bytes:
    return read_key((cfg or settings()).jwt_private_key_file)


def public_key_pem(cfg: Settings | None = None) -> bytes:
    return read_key((cfg or settings()).jwt_public_key_file)

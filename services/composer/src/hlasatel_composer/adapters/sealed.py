"""Secrets the composer must read back (a staff member's TOTP secret), sealed with AES-GCM under a key
derived from the composer's secret, and readable after that secret is replaced."""

import base64
import hashlib
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hlasatel_runtime.secrets import KeyRing, fingerprint


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"hlasatel-sealed\x1f" + secret.encode()).digest()


def seal(keys: KeyRing, plain: str, *, purpose: str) -> str:
    """'<fingerprint of the secret>:<nonce and ciphertext, base64>'; the purpose is authenticated too."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(keys.current)).encrypt(nonce, plain.encode(), purpose.encode())
    return f"{keys.current_fingerprint}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(keys: KeyRing, stored: str, *, purpose: str) -> str:
    """The plain value; ValueError when it was sealed for another purpose, altered, or with a secret no
    longer kept."""
    name, _, body = stored.partition(":")
    if not any(fingerprint(key) == name for key in keys.all):
        raise ValueError("sealed with a secret no longer kept")
    raw = base64.urlsafe_b64decode(body.encode())
    try:
        plain = AESGCM(_key(keys.by_fingerprint(name))).decrypt(raw[:12], raw[12:], purpose.encode())
    except Exception as exc:  # cryptography's InvalidTag: altered, or another purpose
        raise ValueError("the sealed value does not open") from exc
    return plain.decode()

"""Verification codes, signed links and keyed hashes. Pure: the secret is passed in."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from typing import Any


def new_code() -> str:
    """Six digits from the system's secure random source."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def keyed_hash(secret: str, *parts: str) -> str:
    """An HMAC, so that what is stored (codes, tokens, rate-limit keys) cannot be reversed or guessed."""
    return hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def hashed_by_any(secrets_: Sequence[str], stored: str, *parts: str) -> bool:
    """Whether `stored` is the keyed hash of these parts under the current secret or an earlier one."""
    return any(hmac.compare_digest(keyed_hash(secret, *parts), stored) for secret in secrets_)


def short_mac(secret: str, *parts: str, length: int = 12) -> str:
    """A MAC short enough for an SMS link: 12 base64 characters are 72 bits."""
    digest = hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return _b64(digest)[:length]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class BadSignature(ValueError):
    """The link was not made by us, was changed, or has expired."""


def sign(secret: str, purpose: str, payload: dict[str, Any], *, ttl_s: int | None = None) -> str:
    """A compact signed token for links that work without signing in."""
    body = dict(payload, p=purpose)
    if ttl_s is not None:
        body["exp"] = int(time.time()) + ttl_s
    encoded = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{encoded}.{_b64(hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest())}"


def unsign(secret: str | Sequence[str], purpose: str, token: str) -> dict[str, Any]:
    """The payload of a token made by `sign` with this secret, or with any of these (current first)."""
    encoded, _, signature = token.partition(".")
    candidates = [secret] if isinstance(secret, str) else list(secret)
    expected = [_b64(hmac.new(key.encode(), encoded.encode(), hashlib.sha256).digest()) for key in candidates]
    # bytes: compare_digest refuses str with non-ASCII characters, which anyone can put in a link
    if not signature or not any(hmac.compare_digest(signature.encode(), e.encode()) for e in expected):
        raise BadSignature("the link is not valid")
    try:
        body: dict[str, Any] = json.loads(_unb64(encoded))
    except ValueError:
        raise BadSignature("the link is not valid") from None
    if body.pop("p", None) != purpose:
        raise BadSignature("the link is not valid")
    if "exp" in body and body.pop("exp") < time.time():
        raise BadSignature("the link has expired")
    return body

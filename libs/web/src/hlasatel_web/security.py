"""What keeps a session its holder's: cookies the page's scripts cannot read, a CSRF token on every form,
a Content-Security-Policy with a nonce per page, and data sealed for the browser to hold."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# shared by Hlasatel's pages on one host (a cookie knows no port): each application has its own secret,
# so a token made by one is no token to another
CSRF_COOKIE = "__Host-hlasatel-csrf"
LANGUAGE_COOKIE = "hlasatel-language"
CSRF_FIELD = "csrf_token"


def new_seed() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(secret: str, seed: str) -> str:
    """The token a form carries: bound to the browser's CSRF cookie, which another site can neither read
    nor set (SameSite=Strict, __Host-)."""
    return hmac.new(secret.encode(), b"csrf\x1f" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, seed: str | None, token: str | None) -> bool:
    if not seed or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, seed), token)


def content_security_policy(nonce: str, *, image_origin: str | None = None) -> str:
    """Scripts of this application only, and only those the page names with its nonce; no inline
    styles, no frames, forms post here only; images from one more origin if given (a map's tiles)."""
    images = "'self' data:" + (f" {image_origin}" if image_origin else "")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class Sealer:
    """AES-GCM over JSON, for what the browser keeps between two pages but must neither read nor change
    (a citizen's access token while a clerk registers them); each seal expires. The key is derived from
    the application's secret and the purpose, so one purpose's seal opens no other's."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._aead = AESGCM(hashlib.sha256(f"hlasatel-web\x1f{purpose}\x1f{secret}".encode()).digest())
        self._purpose = purpose.encode()

    def seal(self, value: dict[str, Any], *, ttl_s: int) -> str:
        nonce = secrets.token_bytes(12)
        body = json.dumps({"until": int(time.time()) + ttl_s, "value": value}).encode()
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, body, self._purpose)).decode()

    def unseal(self, sealed: str | None) -> dict[str, Any] | None:
        """The value, or None when it is missing, forged, changed or expired."""
        if not sealed:
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            body = json.loads(self._aead.decrypt(raw[:12], raw[12:], self._purpose))
        except (ValueError, InvalidTag):
            return None
        if not isinstance(body, dict) or body.get("until", 0) < time.time():
            return None
        value = body.get("value")
        return value if isinstance(value, dict) else None

"""A service's secret and the ones before it: a new secret signs, the old ones are still accepted, so that
a secret can be replaced without breaking the links, tokens and ids made with the old one."""

import hashlib
from collections.abc import Sequence

DEVELOPMENT_SECRET = "development-only-secret-change-me"


def fingerprint(secret: str) -> str:
    """Names a secret without giving it away: what a stored value records it was made with."""
    return hashlib.sha256(b"hlasatel-key-fingerprint\x1f" + secret.encode()).hexdigest()[:16]


class KeyRing:
    """The current secret first, then the previous ones, newest first."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        self.current = current
        self.all: tuple[str, ...] = (current, *(key for key in previous if key != current))
        self._by_fingerprint = {fingerprint(key): key for key in self.all}

    @property
    def current_fingerprint(self) -> str:
        return fingerprint(self.current)

    def by_fingerprint(self, name: str | None) -> str:
        """The secret a value was made with; the current one for a value that does not say, or names a
        secret no longer kept."""
        return self._by_fingerprint.get(name or "", self.current)

    @classmethod
    def of(cls, secret: "str | KeyRing") -> "KeyRing":
        return secret if isinstance(secret, KeyRing) else cls(secret)

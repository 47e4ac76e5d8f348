"""A token bucket per API key: a burst of a minute's allowance, then its steady rate. Pure."""

import math
from dataclasses import dataclass, field

from hlasatel_runtime.errors import SafeError


class RateLimited(SafeError):
    """The key has used up its requests for now."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """Counts in this process: with several composer replicas each allows the full rate."""

    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, *, key_id: str, name: str, per_minute: int, now: float) -> None:
        """Spend one request of the key, or refuse with the seconds until the next one is allowed."""
        bucket = self._buckets.setdefault(key_id, _Bucket(tokens=float(per_minute), at=now))
        rate = per_minute / 60.0
        bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            wait = math.ceil((1.0 - bucket.tokens) / rate)
            raise RateLimited(
                f"'{name}' may make {per_minute} requests a minute; try again in {wait} s",
                retry_after_s=wait,
            )
        bucket.tokens -= 1.0

"""When to try a delivery again after a retryable failure. Pure."""

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, a cap, and a bounded number of attempts.

    Attempt n (counting the first as 1) failed: wait a random time up to min(cap, base * 2**(n-1)), or as
    long as the provider's Retry-After asks if that is longer; after `max_attempts` attempts, give up.
    """

    max_attempts: int = 6
    base_s: float = 2.0
    cap_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, *, attempts: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before the next attempt; None when the attempts are used up."""
        if attempts >= self.max_attempts:
            return None
        backoff = self.rng.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempts - 1)))
        return max(backoff, retry_after or 0.0)

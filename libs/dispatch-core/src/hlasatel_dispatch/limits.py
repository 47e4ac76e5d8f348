"""How fast a provider account may be called: a token bucket, a concurrency limit, and the pause its
429 / Retry-After asks for."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class AccountLimits:
    """At most `rate_per_s` calls a second (bursts up to `burst`), at most `concurrency` at once, and none
    while the account is paused after a Retry-After."""

    def __init__(
        self,
        *,
        rate_per_s: float,
        concurrency: int,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate_per_s <= 0 or concurrency < 1:
            raise ValueError("rate_per_s must be positive and concurrency at least 1")
        self.rate_per_s = rate_per_s
        self.concurrency = concurrency
        self.burst = burst if burst is not None else max(1.0, rate_per_s / 10)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._refilled_at = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency)

    def pause(self, seconds: float) -> None:
        """The provider asked for a break: nobody calls it for `seconds` (a longer pause wins)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait_s(self) -> float:
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.rate_per_s)
        self._refilled_at = now
        if self._tokens >= 1 - 1e-9:  # floating point: a whole token less a rounding error is a token
            self._tokens = max(0.0, self._tokens - 1)
            return 0.0
        return (1 - self._tokens) / self.rate_per_s

    async def token(self) -> None:
        """Wait until the rate and any pause allow one more call."""
        # one waiter at a time takes tokens, so the order of arrival is the order of calls
        async with self._lock:
            while (wait := self._wait_s()) > 0:
                await self._sleep(wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One of the `concurrency` places for a call in flight; take `token()` inside it before calling."""
        async with self._slots:
            yield

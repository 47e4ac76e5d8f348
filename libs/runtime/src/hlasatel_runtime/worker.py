"""A background loop that works when woken and polls when idle, until its service stops."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Worker:
    """Runs ``step`` whenever woken or every ``idle_poll_s``; a failing step is retried, never fatal.

    ``step`` returns True when more work is waiting, so the loop goes on at once.
    """

    def __init__(
        self, *, name: str, step: Callable[[asyncio.Event], Awaitable[bool]], idle_poll_s: float = 0.5
    ) -> None:
        self._name = name
        self._step = step
        self._idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Work now rather than at the next poll."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self._wake.clear()
            try:
                if await self._step(stopping):
                    continue
            except Exception as exc:  # a broker or database outage is waited out
                log.warning("%s failed, retrying: %s", self._name, type(exc).__name__)
                await asyncio.sleep(1.0)
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stopping.wait())]
            await asyncio.wait(waits, timeout=self._idle_poll_s, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waits:
                waiter.cancel()

"""Kafka has no priorities: the lanes' consumers take turns through this gate, emergency first."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hlasatel_contracts import LANES_BY_PRIORITY, Lane


class LanePriority:
    """A lane works only while no more urgent lane has work in hand.

    A consumer holds `working(lane)` while it has a batch, and waits for `turn(lane)` before each
    provider call, so an emergency batch arriving during a bulk send pauses the bulk send between calls.
    """

    def __init__(self) -> None:
        self._in_hand = dict.fromkeys(LANES_BY_PRIORITY, 0)
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def working(self, lane: Lane) -> AsyncIterator[None]:
        async with self._changed:
            self._in_hand[lane] += 1
        try:
            yield
        finally:
            async with self._changed:
                self._in_hand[lane] -= 1
                self._changed.notify_all()

    def _more_urgent_busy(self, lane: Lane) -> bool:
        more_urgent = LANES_BY_PRIORITY[: LANES_BY_PRIORITY.index(lane)]
        return any(self._in_hand[other] for other in more_urgent)

    async def turn(self, lane: Lane) -> None:
        """Return once no more urgent lane has work in hand."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._more_urgent_busy(lane))

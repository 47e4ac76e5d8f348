"""Transactional outbox: events are rows committed with the change, then relayed to Kafka."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters.orm import OutboxRow

log = logging.getLogger(__name__)

PublishRaw = Callable[[str, bytes, bytes], Awaitable[Awaitable[object]]]


def enqueue(session: AsyncSession, *, topic: str, key: str, event: BaseModel) -> None:
    """Add an event to the caller's transaction."""
    session.add(
        OutboxRow(topic=topic, key=key, payload=event.model_dump_json(), created_at=datetime.now(UTC))
    )


class OutboxRelay:
    """Publishes committed outbox rows in order and marks them; a crash only means publishing again."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        publish: PublishRaw,
        batch_size: int = 500,
        idle_poll_s: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tell the relay that a transaction with events has just committed."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish one batch of pending events; returns how many."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.payload)
                    .where(OutboxRow.published_at.is_(None))
                    .order_by(OutboxRow.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            confirmations = [
                await self._publish(row.topic, row.key.encode(), row.payload.encode()) for row in rows
            ]
            await asyncio.gather(*confirmations)
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([row.id for row in rows]))
                .values(published_at=datetime.now(UTC))
            )
        return len(rows)

    async def run(self, stopping: asyncio.Event) -> None:
        """Relay until the service stops; a broker outage is waited out, not fatal."""
        while not stopping.is_set():
            try:
                if await self.relay_once():
                    continue
            except Exception as exc:  # the relay must outlive broker and database hiccups
                log.warning("outbox relay failed, retrying: %s", type(exc).__name__)
                await asyncio.sleep(1.0)
            self._wake.clear()
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stopping.wait())]
            await asyncio.wait(waits, timeout=self._idle_poll_s, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waits:
                waiter.cancel()

"""Transactional outbox: events are rows committed with the change, then relayed to Kafka."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters.orm import OutboxRow
from hlasatel_runtime.worker import Worker

PublishRaw = Callable[[str, bytes, bytes], Awaitable[Awaitable[object]]]


def enqueue(session: AsyncSession, *, topic: str, key: str, event: BaseModel) -> None:
    """Add an event to the caller's transaction."""
    session.add(
        OutboxRow(topic=topic, key=key, payload=event.model_dump_json(), created_at=datetime.now(UTC))
    )


class OutboxRelay:
    """Publishes committed outbox rows in order and deletes them; a crash only means publishing again."""

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
        self._worker = Worker(name="outbox relay", step=self._step, idle_poll_s=idle_poll_s)
        # wake() tells the relay that a transaction with events has just committed
        self.wake = self._worker.wake
        self.run = self._worker.run

    async def _step(self, _stopping: asyncio.Event) -> bool:
        return await self.relay_once() > 0

    async def relay_once(self) -> int:
        """Publish one batch of pending events; returns how many."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.payload)
                    .order_by(OutboxRow.id)
                    .limit(self._batch_size)
                    # blocking, not skip_locked: a second registry waits, so versions reach Kafka in order
                    .with_for_update()
                )
            ).all()
            if not rows:
                return 0
            confirmations = [
                await self._publish(row.topic, row.key.encode(), row.payload.encode()) for row in rows
            ]
            await asyncio.gather(*confirmations)
            # gone once on the bus: the rows hold contacts and codes, which must not outlive their purpose
            await session.execute(delete(OutboxRow).where(OutboxRow.id.in_([row.id for row in rows])))
        return len(rows)

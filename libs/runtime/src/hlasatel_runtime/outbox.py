"""The transactional outbox every service publishes through: an event is a row committed with the change
it announces, and a relay publishes committed rows afterwards, in order, deleting each once it is on the
bus. A crash or a broker away between the commit and the publish only means publishing later (or twice,
which every consumer takes as the same event); a transaction that does not commit announces nothing."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker
from pydantic import BaseModel
from sqlalchemy import Integer, String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hlasatel_runtime.database import UtcDateTime
from hlasatel_runtime.worker import Worker

PublishRaw = Callable[[str, bytes, bytes], Awaitable[Awaitable[object]]]


class OutboxColumns:
    """A service's outbox table: `class OutboxRow(OutboxColumns, Base)` in its ORM."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


def enqueue(session: AsyncSession, model: Any, *, topic: str, key: str, event: BaseModel) -> None:
    """Add an event to the caller's transaction; it is published once that commits."""
    session.add(model(topic=topic, key=key, payload=event.model_dump_json(), created_at=datetime.now(UTC)))


def raw_publisher(broker: KafkaBroker) -> PublishRaw:
    """Publish a stored payload as it is, without waiting for each confirmation (the relay gathers them)."""

    async def publish(topic: str, key: bytes, payload: bytes) -> Awaitable[object]:
        confirmation: Awaitable[object] = await broker.publish(
            payload, topic, key=key, headers={"content-type": "application/json"}, no_confirm=True
        )
        return confirmation

    return publish


class OutboxRelay:
    """Publishes committed outbox rows in order and deletes them; a crash only means publishing again."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        model: Any,
        publish: PublishRaw,
        batch_size: int = 500,
        idle_poll_s: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._model = model
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
        model = self._model
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(model.id, model.topic, model.key, model.payload)
                    .order_by(model.id)
                    .limit(self._batch_size)
                    # blocking, not skip_locked: a second replica waits, so events reach Kafka in order
                    .with_for_update()
                )
            ).all()
            if not rows:
                return 0
            confirmations = [
                await self._publish(row.topic, row.key.encode(), row.payload.encode()) for row in rows
            ]
            await asyncio.gather(*confirmations)
            # gone once on the bus: the rows may hold contacts and codes, which must not outlive their purpose
            await session.execute(delete(model).where(model.id.in_([row.id for row in rows])))
        return len(rows)


@contextlib.asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay
) -> AsyncIterator[AsyncSession]:
    """One transaction and the events it adds to the outbox: leaving the block commits both (an exception
    rolls both back, announcing nothing), and only then is the relay woken to publish them."""
    async with sessions() as session, session.begin():
        yield session
    relay.wake()

"""The registry's outbox: the runtime's, on the registry's table."""

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters.orm import OutboxRow
from hlasatel_runtime import outbox
from hlasatel_runtime.outbox import PublishRaw


def enqueue(session: AsyncSession, *, topic: str, key: str, event: BaseModel) -> None:
    """Add an event to the caller's transaction."""
    outbox.enqueue(session, OutboxRow, topic=topic, key=key, event=event)


class OutboxRelay(outbox.OutboxRelay):
    """Relays the registry's outbox table."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        publish: PublishRaw,
        batch_size: int = 500,
        idle_poll_s: float = 0.5,
    ) -> None:
        super().__init__(
            sessions=sessions,
            model=OutboxRow,
            publish=publish,
            batch_size=batch_size,
            idle_poll_s=idle_poll_s,
        )

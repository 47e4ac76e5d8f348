"""The composer's unit of work: one transaction, its messages as aggregates, and what they raise.

On commit the events the outside world needs (a cancellation, for the dispatchers) are written to the
outbox in the same transaction, and published by the relay after it; an approval wakes the fan-out once
the approval is committed. A transaction that does not commit announces nothing.
"""

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self, cast
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access
from hlasatel_composer.adapters.orm import DeliveryRow, MessageRow, OutboxRow
from hlasatel_composer.domain.access import Principal
from hlasatel_composer.domain.deliveries import settled
from hlasatel_composer.domain.message import Message, MessageApproved, MessageNotFound, draft
from hlasatel_composer.domain.messages import MessageState
from hlasatel_contracts import MESSAGE_CANCELLATIONS, DeliveryState, MessageCancelled
from hlasatel_runtime import outbox


def row_of(message: Message) -> MessageRow:
    """The ORM row behind a message this repository loaded."""
    return cast(MessageRow, message.record)


class MessageRepository:
    """Messages of one unit of work, each loaded once, as aggregates."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: dict[UUID, Message] = {}

    def _track(self, row: MessageRow) -> Message:
        if row.id not in self.seen:
            self.seen[row.id] = Message(row)
        return self.seen[row.id]

    def add(self, **fields: Any) -> Message:
        """A new draft."""
        row = draft(MessageRow, **fields)
        self.session.add(row)
        return self._track(row)

    async def get(self, message_id: UUID, *, lock: bool = True) -> Message | None:
        row = await self.session.get(MessageRow, message_id, with_for_update=lock)
        return None if row is None else self._track(row)

    async def must(self, message_id: UUID, *, lock: bool = True) -> Message:
        message = await self.get(message_id, lock=lock)
        if message is None:
            raise MessageNotFound(f"no message {message_id}")
        return message

    async def companions(self, message_id: UUID) -> list[Message]:
        """Drafts that go out with this message: an update's word to those it no longer affects."""
        rows = await self.session.scalars(
            select(MessageRow)
            .where(MessageRow.unless_at == message_id, MessageRow.state == MessageState.DRAFT.value)
            .with_for_update()
        )
        return [self._track(row) for row in rows]


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def drop_held(self, message_id: UUID, *, at: datetime, reason: str) -> int:
        """Deliveries held for quiet hours of this message are cancelled; returns how many."""
        held: Any = await self.session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.message_id == message_id, DeliveryRow.held_request.is_not(None))
            .values(**settled(DeliveryState.CANCELLED, reason=reason, at=at), held_request=None)
        )
        count: int = held.rowcount
        return count


class UnitOfWork:
    """`async with uow: … await uow.commit()`; leaving without a commit rolls everything back."""

    session: AsyncSession
    messages: MessageRepository
    deliveries: DeliveryRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        wake_fan_out: Callable[[], None] = lambda: None,
        wake_relay: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._wake_fan_out = wake_fan_out
        self._wake_relay = wake_relay

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        await self.session.begin()
        self.messages = MessageRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def audit(self, *, actor: Principal, action: str, **fields: Any) -> None:
        await access.audit(self.session, actor=actor, action=action, **fields)

    async def commit(self) -> None:
        """Write the events to the outbox and commit with them; then wake who waits for them."""
        approved = published = False
        for message in self.messages.seen.values():
            for event in message.take_events():
                if isinstance(event, MessageCancelled):
                    outbox.enqueue(
                        self.session,
                        OutboxRow,
                        topic=MESSAGE_CANCELLATIONS,
                        key=str(event.message_id),
                        event=event,
                    )
                    published = True
                elif isinstance(event, MessageApproved):
                    approved = True
        await self.session.commit()
        if published:
            self._wake_relay()
        if approved:
            self._wake_fan_out()


UnitOfWorkFactory = Callable[[], UnitOfWork]

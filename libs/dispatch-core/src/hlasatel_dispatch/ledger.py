"""The idempotency ledger: a delivery id handed to a provider is never handed again."""

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import Insert, Integer, MetaData, String, Uuid, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hlasatel_contracts import DeliveryRequest
from hlasatel_runtime.database import UtcDateTime


class LedgerState(StrEnum):
    HANDED = "handed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Base(DeclarativeBase):
    metadata = MetaData()


class LedgerEntry(Base):
    __tablename__ = "dispatch_ledger"

    delivery_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), primary_key=True)
    message_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), index=True)
    lane: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    segments: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CancelledMessage(Base):
    """A message the press office cancelled: none of its deliveries is handed to a provider any more."""

    __tablename__ = "cancelled_messages"

    message_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), primary_key=True)
    cancelled_at: Mapped[datetime] = mapped_column(UtcDateTime)


async def find(session: AsyncSession, delivery_id: str) -> LedgerEntry | None:
    return await session.get(LedgerEntry, delivery_id)


async def record(
    session: AsyncSession,
    *,
    request: DeliveryRequest,
    state: LedgerState,
    provider: str | None = None,
    provider_message_id: str | None = None,
    segments: int | None = None,
    reason: str | None = None,
) -> LedgerEntry:
    """Write the outcome of one attempt; the caller commits."""
    entry = await session.get(LedgerEntry, str(request.delivery_id))
    if entry is None:
        entry = LedgerEntry(
            delivery_id=str(request.delivery_id),
            message_id=str(request.message_id),
            lane=request.lane.value,
            attempts=0,
        )
        session.add(entry)
    entry.state = state.value
    entry.provider = provider
    entry.provider_message_id = provider_message_id
    entry.segments = segments
    entry.reason = reason
    entry.attempts += 1
    entry.updated_at = datetime.now(UTC)
    return entry


async def mark_cancelled(session: AsyncSession, *, message_id: UUID, cancelled_at: datetime) -> None:
    """Remember a cancelled message; the first cancellation stays, a repeated one changes nothing."""
    values = {"message_id": str(message_id), "cancelled_at": cancelled_at}
    insert: Insert
    if session.get_bind().dialect.name == "postgresql":
        insert = postgresql.insert(CancelledMessage).values(values).on_conflict_do_nothing()
    else:
        insert = sqlite.insert(CancelledMessage).values(values).on_conflict_do_nothing()
    await session.execute(insert)


async def is_cancelled(session: AsyncSession, message_id: UUID) -> bool:
    found = await session.scalar(
        select(CancelledMessage.message_id).where(CancelledMessage.message_id == str(message_id))
    )
    return found is not None

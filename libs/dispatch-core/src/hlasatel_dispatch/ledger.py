"""The idempotency ledger: a delivery id handed to a provider is never handed again."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Insert, Integer, MetaData, String, Uuid, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hlasatel_contracts import DeliveryRequest
from hlasatel_runtime.database import UtcDateTime


class LedgerState(StrEnum):
    SENDING = "sending"  # claimed: one worker is calling the provider with it now
    RETRY_WAIT = "retry_wait"  # failed retryably: tried again at `due_at`
    HANDED = "handed"
    FAILED = "failed"
    CONTACT_INVALID = "contact_invalid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


FINAL = frozenset(
    {LedgerState.FAILED, LedgerState.CONTACT_INVALID, LedgerState.EXPIRED, LedgerState.CANCELLED}
)


class Claim(StrEnum):
    GRANTED = "granted"  # the caller may call the provider
    HANDED = "handed"  # already handed to a provider: announce it again, never send again
    FINAL = "final"  # already finished otherwise: announce it again
    BUSY = "busy"  # someone else is calling the provider with it right now


class Base(DeclarativeBase):
    metadata = MetaData()


class LedgerEntry(Base):
    __tablename__ = "dispatch_ledger"

    delivery_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), primary_key=True)
    message_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), index=True)
    # ids only, so that a provider's later delivery report can be announced like any other status
    subscriber_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False))
    contact_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False))
    lane: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    segments: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # while a delivery may still be sent (claimed or waiting to be retried): when to look at it again, and
    # the request itself, so that a retry or a crashed attempt does not depend on the bus; cleared after
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class CancelledMessage(Base):
    """A message the press office cancelled: none of its deliveries is handed to a provider any more."""

    __tablename__ = "cancelled_messages"

    message_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), primary_key=True)
    cancelled_at: Mapped[datetime] = mapped_column(UtcDateTime)


async def find(session: AsyncSession, delivery_id: str) -> LedgerEntry | None:
    return await session.get(LedgerEntry, delivery_id, populate_existing=True)


async def claim(session: AsyncSession, request: DeliveryRequest, *, stale_after_s: float) -> Claim:
    """Take the delivery for one provider call, in a short transaction of its own before the call.

    A claim older than `stale_after_s` belonged to a worker that died during its call: the outcome is
    unknown, and the delivery is taken over and sent again rather than lost (at least once, for the few
    calls in flight at a crash).
    """
    now = datetime.now(UTC)
    due = now + timedelta(seconds=stale_after_s)
    values = {
        "delivery_id": str(request.delivery_id),
        "message_id": str(request.message_id),
        "subscriber_id": str(request.subscriber_id),
        "contact_id": str(request.contact_id),
        "lane": request.lane.value,
        "state": LedgerState.SENDING.value,
        "attempts": 0,
        "updated_at": now,
        "claimed_at": now,
        "due_at": due,
        "payload": request.model_dump(mode="json"),
    }
    if await _insert_ignoring_conflict(session, LedgerEntry, values):
        return Claim.GRANTED
    entry = await find(session, str(request.delivery_id))
    if entry is None:
        return Claim.BUSY
    state = LedgerState(entry.state)
    if state is LedgerState.HANDED:
        return Claim.HANDED
    if state in FINAL:
        return Claim.FINAL
    taken_over = LedgerEntry.state == LedgerState.RETRY_WAIT.value
    if state is LedgerState.SENDING:
        if entry.claimed_at is not None and entry.claimed_at > now - timedelta(seconds=stale_after_s):
            return Claim.BUSY
        taken_over = (LedgerEntry.state == LedgerState.SENDING.value) & (
            LedgerEntry.claimed_at == entry.claimed_at
        )
    result = await session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.delivery_id == str(request.delivery_id), taken_over)
        .values(state=LedgerState.SENDING.value, claimed_at=now, due_at=due, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return Claim.GRANTED if _rowcount(result) == 1 else Claim.BUSY


async def due(session: AsyncSession, *, limit: int) -> list[LedgerEntry]:
    """Deliveries waiting for a retry whose time has come, and claims left behind by a crash."""
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.due_at <= datetime.now(UTC), LedgerEntry.payload.is_not(None))
        .order_by(LedgerEntry.due_at)
        .limit(limit)
    )
    return list(rows)


async def schedule_retry(
    session: AsyncSession, *, request: DeliveryRequest, at: datetime, reason: str
) -> None:
    """The attempt failed retryably: try again at `at`."""
    entry = await _entry(session, request)
    entry.state = LedgerState.RETRY_WAIT.value
    entry.reason = reason
    entry.attempts += 1
    entry.due_at = at
    entry.payload = request.model_dump(mode="json")
    entry.updated_at = datetime.now(UTC)


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
    """Write the final outcome of a delivery; the caller commits."""
    entry = await _entry(session, request)
    entry.state = state.value
    entry.provider = provider
    entry.provider_message_id = provider_message_id
    entry.segments = segments
    entry.reason = reason
    if state is LedgerState.HANDED or state in {LedgerState.FAILED, LedgerState.CONTACT_INVALID}:
        entry.attempts += 1
    entry.updated_at = datetime.now(UTC)
    entry.claimed_at = entry.due_at = entry.payload = None
    return entry


async def _entry(session: AsyncSession, request: DeliveryRequest) -> LedgerEntry:
    entry = await find(session, str(request.delivery_id))
    if entry is None:
        entry = LedgerEntry(
            delivery_id=str(request.delivery_id),
            message_id=str(request.message_id),
            subscriber_id=str(request.subscriber_id),
            contact_id=str(request.contact_id),
            lane=request.lane.value,
            attempts=0,
        )
        session.add(entry)
    return entry


async def _insert_ignoring_conflict(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert unless the primary key exists; True when the row was inserted."""
    insert: Insert
    if session.get_bind().dialect.name == "postgresql":
        insert = postgresql.insert(model).values(values).on_conflict_do_nothing()
    else:
        insert = sqlite.insert(model).values(values).on_conflict_do_nothing()
    return _rowcount(await session.execute(insert)) == 1


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count


async def mark_cancelled(session: AsyncSession, *, message_id: UUID, cancelled_at: datetime) -> None:
    """Remember a cancelled message; the first cancellation stays, a repeated one changes nothing."""
    values = {"message_id": str(message_id), "cancelled_at": cancelled_at}
    await _insert_ignoring_conflict(session, CancelledMessage, values)


async def is_cancelled(session: AsyncSession, message_id: UUID) -> bool:
    found = await session.scalar(
        select(CancelledMessage.message_id).where(CancelledMessage.message_id == str(message_id))
    )
    return found is not None

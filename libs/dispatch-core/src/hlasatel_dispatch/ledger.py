"""The idempotency ledger: a delivery id handed to a provider is never handed again."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, cast
from uuid import UUID

from sqlalchemy import JSON, Integer, MetaData, String, Table, Uuid, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hlasatel_contracts import DeliveryRequest
from hlasatel_runtime.database import UtcDateTime, insert_ignoring_conflict


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
    subscriber_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False), index=True)
    contact_id: Mapped[str | None] = mapped_column(Uuid(as_uuid=False))
    lane: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    segments: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
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


class ErasedSubscriber(Base):
    """A subscriber the registry erased (its changelog tombstone): nothing more is handed over for them."""

    __tablename__ = "erased_subscribers"

    subscriber_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime)


async def find(session: AsyncSession, delivery_id: str) -> LedgerEntry | None:
    return await session.get(LedgerEntry, delivery_id, populate_existing=True)


class Recorded(Protocol):
    """What the ledger holds of a delivery's outcome, as a claim finds it or an outcome writes it."""

    @property
    def state(self) -> LedgerState: ...
    @property
    def provider(self) -> str | None: ...
    @property
    def provider_message_id(self) -> str | None: ...
    @property
    def segments(self) -> int | None: ...
    @property
    def reason(self) -> str | None: ...


@dataclass(frozen=True)
class Taken:
    """What the ledger says of one delivery at its claim."""

    claim: Claim
    state: LedgerState
    attempts: int = 0
    provider: str | None = None
    provider_message_id: str | None = None
    segments: int | None = None
    reason: str | None = None
    cancelled: bool = False  # its message was cancelled: not to be sent, whatever the claim
    erased: bool = False  # its subscriber was erased: not to be sent, whatever the claim
    claimed_at: datetime | None = None  # a granted claim's time: the lease its holder renews
    taken_over: bool = False  # from a worker that died during its call, which counts as an attempt


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed delivery; `due_at` only for a retry."""

    delivery_id: str
    state: LedgerState
    provider: str | None = None
    provider_message_id: str | None = None
    segments: int | None = None
    reason: str | None = None
    attempted: bool = True  # a provider call was made: it counts as an attempt
    due_at: datetime | None = None


_ENTRIES = cast(Table, LedgerEntry.__table__)


async def claim(
    session: AsyncSession, requests: Sequence[DeliveryRequest], *, stale_after_s: float
) -> list[Taken]:
    """Take a chunk of deliveries for their provider calls, in one short transaction before the calls: one
    read of what the ledger knows, one insert of the new ones, one read of cancellations.

    A worker renews its claims while its calls are in hand (`renew`), so a claim older than
    `stale_after_s` belonged to a worker that died during its call: the outcome is unknown, and the
    delivery is taken over and sent again rather than lost (at least once, for the few calls in flight at
    a crash). A delivery twice in one chunk is claimed once; the repeat is BUSY.
    """
    now = datetime.now(UTC)
    due = now + timedelta(seconds=stale_after_s)
    ids = list(dict.fromkeys(str(request.delivery_id) for request in requests))
    known = {
        row.delivery_id: row
        for row in await session.execute(select(_ENTRIES).where(_ENTRIES.c.delivery_id.in_(ids)))
    }
    fresh = {
        str(r.delivery_id): _new_row(r, now=now, due=due) for r in requests if str(r.delivery_id) not in known
    }
    inserted = await insert_ignoring_conflict(session, _ENTRIES, list(fresh.values()))
    message_ids = list({str(request.message_id) for request in requests})
    cancelled = set(
        await session.scalars(
            select(CancelledMessage.message_id).where(CancelledMessage.message_id.in_(message_ids))
        )
    )
    subscriber_ids = list({str(request.subscriber_id) for request in requests})
    erased = set(
        await session.scalars(
            select(ErasedSubscriber.subscriber_id).where(ErasedSubscriber.subscriber_id.in_(subscriber_ids))
        )
    )
    taken: list[Taken] = []
    seen: set[str] = set()
    for request in requests:
        delivery_id = str(request.delivery_id)
        if delivery_id in seen:
            taken.append(Taken(Claim.BUSY, LedgerState.SENDING))
            continue
        seen.add(delivery_id)
        if delivery_id in fresh:
            claim_ = Claim.GRANTED if delivery_id in inserted else Claim.BUSY
            taken.append(
                Taken(
                    claim_,
                    LedgerState.SENDING,
                    cancelled=str(request.message_id) in cancelled,
                    erased=str(request.subscriber_id) in erased,
                    claimed_at=now if claim_ is Claim.GRANTED else None,
                )
            )
        else:
            row = known[delivery_id]
            claim_ = await _claim_known(session, row, now=now, due=due, stale_after_s=stale_after_s)
            taken_over = claim_ is Claim.GRANTED and row.state == LedgerState.SENDING.value
            taken.append(
                Taken(
                    claim_,
                    LedgerState(row.state),
                    attempts=row.attempts + (1 if taken_over else 0),
                    provider=row.provider,
                    provider_message_id=row.provider_message_id,
                    segments=row.segments,
                    reason=row.reason,
                    cancelled=str(request.message_id) in cancelled,
                    erased=str(request.subscriber_id) in erased,
                    claimed_at=now if claim_ is Claim.GRANTED else None,
                    taken_over=taken_over,
                )
            )
    return taken


def _new_row(request: DeliveryRequest, *, now: datetime, due: datetime) -> dict[str, Any]:
    return {
        "delivery_id": str(request.delivery_id),
        "message_id": str(request.message_id),
        "subscriber_id": str(request.subscriber_id),
        "contact_id": str(request.contact_id),
        "lane": request.lane.value,
        "state": LedgerState.SENDING.value,
        "provider": None,
        "provider_message_id": None,
        "segments": None,
        "reason": None,
        "attempts": 0,
        "updated_at": now,
        "claimed_at": now,
        "due_at": due,
        "payload": request.model_dump(mode="json"),
    }


async def _claim_known(
    session: AsyncSession, row: Any, *, now: datetime, due: datetime, stale_after_s: float
) -> Claim:
    """A delivery the ledger has seen before: announce it again, or take it over from a retry wait or a
    claim gone stale (one conditional update, so that two workers cannot both take it)."""
    state = LedgerState(row.state)
    if state is LedgerState.HANDED:
        return Claim.HANDED
    if state in FINAL:
        return Claim.FINAL
    taken_over = _ENTRIES.c.state == LedgerState.RETRY_WAIT.value
    # the call a dead worker had in hand counts as an attempt, so that a delivery that kills its worker
    # (or whose worker keeps dying) is given up on after the retry policy's attempts, not tried forever
    attempts: Any = _ENTRIES.c.attempts
    if state is LedgerState.SENDING:
        if row.claimed_at is not None and row.claimed_at > now - timedelta(seconds=stale_after_s):
            return Claim.BUSY
        taken_over = (_ENTRIES.c.state == LedgerState.SENDING.value) & (
            _ENTRIES.c.claimed_at == row.claimed_at
        )
        attempts = _ENTRIES.c.attempts + 1
    result = await session.execute(
        update(_ENTRIES)
        .where(_ENTRIES.c.delivery_id == row.delivery_id, taken_over)
        .values(
            state=LedgerState.SENDING.value, claimed_at=now, due_at=due, updated_at=now, attempts=attempts
        )
    )
    return Claim.GRANTED if _rowcount(result) == 1 else Claim.BUSY


async def renew(
    session: AsyncSession, delivery_ids: Sequence[str], *, claimed_at: datetime, stale_after_s: float
) -> datetime:
    """Keep claims made at `claimed_at` fresh while their provider calls go on; returns the claims' new
    time. A claim another worker took over meanwhile (this one stalled past `stale_after_s`) is left to it.
    """
    now = datetime.now(UTC)
    await session.execute(
        update(_ENTRIES)
        .where(
            _ENTRIES.c.delivery_id.in_(delivery_ids),
            _ENTRIES.c.state == LedgerState.SENDING.value,
            _ENTRIES.c.claimed_at == claimed_at,
        )
        .values(claimed_at=now, due_at=now + timedelta(seconds=stale_after_s))
    )
    return now


async def due(session: AsyncSession, *, limit: int) -> list[LedgerEntry]:
    """Deliveries waiting for a retry whose time has come, and claims left behind by a crash."""
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.due_at <= datetime.now(UTC), LedgerEntry.payload.is_not(None))
        .order_by(LedgerEntry.due_at)
        .limit(limit)
    )
    return list(rows)


_RECORD = (
    update(_ENTRIES)
    .where(_ENTRIES.c.delivery_id == bindparam("b_delivery_id"))
    .values(
        state=bindparam("b_state"),
        provider=bindparam("b_provider"),
        provider_message_id=bindparam("b_provider_message_id"),
        segments=bindparam("b_segments"),
        reason=bindparam("b_reason"),
        attempts=_ENTRIES.c.attempts + bindparam("b_attempted"),
        updated_at=bindparam("b_updated_at"),
        claimed_at=None,  # no worker holds the delivery any more
        due_at=bindparam("b_due_at"),
    )
)
_RECORD_FINAL = _RECORD.values(payload=None)


async def record(session: AsyncSession, outcomes: Sequence[Outcome]) -> None:
    """Write what became of claimed deliveries, one statement for all of them; the caller commits.

    A retry keeps the request for its next attempt; every other outcome is final and lets it go.
    """
    now = datetime.now(UTC)
    for retrying in (True, False):
        rows = [
            {
                "b_delivery_id": outcome.delivery_id,
                "b_state": outcome.state.value,
                "b_provider": outcome.provider,
                "b_provider_message_id": outcome.provider_message_id,
                "b_segments": outcome.segments,
                "b_reason": outcome.reason,
                "b_attempted": 1 if outcome.attempted else 0,
                "b_updated_at": now,
                "b_due_at": outcome.due_at,
            }
            for outcome in outcomes
            if (outcome.state is LedgerState.RETRY_WAIT) is retrying
        ]
        if rows:
            await session.execute(_RECORD if retrying else _RECORD_FINAL, rows)


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count


async def mark_cancelled(session: AsyncSession, *, message_id: UUID, cancelled_at: datetime) -> None:
    """Remember a cancelled message; the first cancellation stays, a repeated one changes nothing."""
    values = {"message_id": str(message_id), "cancelled_at": cancelled_at}
    await insert_ignoring_conflict(session, cast(Table, CancelledMessage.__table__), [values])


async def is_cancelled(session: AsyncSession, message_id: UUID) -> bool:
    found = await session.scalar(
        select(CancelledMessage.message_id).where(CancelledMessage.message_id == str(message_id))
    )
    return found is not None


async def mark_erased(session: AsyncSession, *, subscriber_ids: Sequence[str], erased_at: datetime) -> int:
    """Remember erased subscribers and stop their deliveries not yet handed over: those waiting for a retry
    are cancelled and their requests, contacts and all, deleted. One being called right now finishes its
    call; a retry of it is then cancelled too. Returns how many deliveries were stopped."""
    if not subscriber_ids:
        return 0
    await insert_ignoring_conflict(
        session,
        cast(Table, ErasedSubscriber.__table__),
        [{"subscriber_id": sid, "erased_at": erased_at} for sid in dict.fromkeys(subscriber_ids)],
    )
    result = await session.execute(
        update(_ENTRIES)
        .where(
            _ENTRIES.c.subscriber_id.in_(list(subscriber_ids)),
            _ENTRIES.c.state == LedgerState.RETRY_WAIT.value,
        )
        .values(
            state=LedgerState.CANCELLED.value,
            reason="subscriber erased",
            payload=None,
            due_at=None,
            updated_at=datetime.now(UTC),
        )
    )
    return _rowcount(result)


async def forget_older_than(session: AsyncSession, *, before: datetime) -> int:
    """Delete what the ledger knows of deliveries finished before `before`, and of cancellations and
    erasures as old: a request that old is refused as expired, so nothing is needed to refuse it again."""
    finished = [LedgerState.HANDED.value, *(state.value for state in FINAL)]
    result = await session.execute(
        delete(_ENTRIES).where(_ENTRIES.c.state.in_(finished), _ENTRIES.c.updated_at < before)
    )
    await session.execute(delete(CancelledMessage).where(CancelledMessage.cancelled_at < before))
    await session.execute(delete(ErasedSubscriber).where(ErasedSubscriber.erased_at < before))
    return _rowcount(result)

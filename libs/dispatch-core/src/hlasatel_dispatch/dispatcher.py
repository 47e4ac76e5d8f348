"""One delivery request in, one provider call at a time, one status out for every outcome."""

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import (
    DELIVERY_REQUEST_BY_CHANNEL,
    LANES_BY_PRIORITY,
    Channel,
    DeadLetter,
    DeliveryState,
    DeliveryStatusChanged,
    MessageCancelled,
    delivery_topic,
)
from hlasatel_dispatch import ledger, metrics
from hlasatel_dispatch.circuit import CircuitBreaker, Failover
from hlasatel_dispatch.ledger import Claim, LedgerEntry, LedgerState
from hlasatel_dispatch.limits import AccountLimits
from hlasatel_dispatch.priority import LanePriority
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    Provider,
    ProviderError,
    Receipt,
    RequestT,
    RetryableProviderError,
)
from hlasatel_dispatch.retry import RetryPolicy

log = logging.getLogger(__name__)


class _Go:
    """The delivery may be handed to the provider now."""


_GO = _Go()

PublishStatus = Callable[[DeliveryStatusChanged], Awaitable[None]]
PublishDeadLetter = Callable[[DeadLetter], Awaitable[None]]

_ANNOUNCED = {
    LedgerState.FAILED: DeliveryState.FAILED,
    LedgerState.CONTACT_INVALID: DeliveryState.CONTACT_INVALID,
    LedgerState.EXPIRED: DeliveryState.EXPIRED,
    LedgerState.CANCELLED: DeliveryState.CANCELLED,
}


@dataclass
class Account(Generic[RequestT]):
    """One provider account and how fast it may be called."""

    provider: Provider[RequestT]
    limits: AccountLimits


class Dispatcher(Generic[RequestT]):
    """Claims each delivery in the ledger before its provider call and records the outcome after it, never
    holding a transaction across the call; retries retryable failures later, from the ledger, without
    holding up the consumer; fails over to the second account while the first one keeps failing."""

    def __init__(
        self,
        *,
        channel: Channel,
        accounts: Sequence[Account[RequestT]],
        sessions: async_sessionmaker[AsyncSession],
        publish_status: PublishStatus,
        publish_dead_letter: PublishDeadLetter,
        retry: RetryPolicy | None = None,
        breaker: Callable[[], CircuitBreaker] = CircuitBreaker,
        priority: LanePriority | None = None,
        stale_after_s: float = 120.0,
    ) -> None:
        self.channel = channel
        self.service = f"dispatch-{channel.value}"
        self.failover: Failover[Account[RequestT]] = Failover(accounts, breaker=breaker)
        self.sessions = sessions
        self.publish_status = publish_status
        self.publish_dead_letter = publish_dead_letter
        self.retry = retry or RetryPolicy()
        self.priority = priority or LanePriority()
        self.stale_after_s = stale_after_s
        self._model: type[RequestT] = DELIVERY_REQUEST_BY_CHANNEL[channel]  # type: ignore[assignment]

    async def handle_batch(self, requests: Sequence[RequestT]) -> None:
        """A batch from one lane, after more urgent lanes: in provider calls of up to `max_batch` where
        the provider has a batch API, otherwise one call per delivery side by side, within the accounts'
        limits."""
        if not requests:
            return
        async with self.priority.working(requests[0].lane):
            _, account = self.failover.choose()
            size = account.provider.max_batch
            if size > 1:
                for start in range(0, len(requests), size):
                    await self._handle_chunk(requests[start : start + size])
            else:
                await asyncio.gather(*(self._handle_chunk([request]) for request in requests))

    async def handle(self, request: RequestT) -> DeliveryStatusChanged | None:
        """Deliver at most once; a repeat announces the outcome the delivery already had. Returns the
        status published, or None when another worker has the delivery in hand."""
        statuses = await self._handle_chunk([request])
        return statuses[0] if statuses else None

    async def _handle_chunk(self, requests: Sequence[RequestT]) -> list[DeliveryStatusChanged]:
        """One provider call for every delivery of the chunk that may go; returns the statuses published."""
        await self.priority.turn(requests[0].lane)
        index, account = self.failover.choose()
        # the ledger is read inside the account's slot, right before the call: a cancellation that arrived
        # while the request queued for a slot is still obeyed
        async with account.limits.slot():
            checked = [await self._checked(request) for request in requests]
            going = [request for request, outcome in zip(requests, checked, strict=True) if outcome is _GO]
            statuses = [outcome for outcome in checked if isinstance(outcome, DeliveryStatusChanged)]
            for _ in going:
                await account.limits.token()
            results = await account.provider.send_many(going) if going else []
            for request, result in zip(going, results, strict=True):
                if isinstance(result, ProviderError):
                    statuses.append(await self._refused(request, index, account, result))
                else:
                    statuses.append(await self._handed(request, index, account, result))
        for status in statuses:
            await self.publish_status(status)
        return statuses

    async def _checked(self, request: RequestT) -> "DeliveryStatusChanged | _Go | None":
        """Claim the delivery; the status to announce when it is not to be sent (again), `_GO` when it
        is, None when another worker has it."""
        async with self.sessions() as session, session.begin():
            claim = await ledger.claim(session, request, stale_after_s=self.stale_after_s)
            entry = await ledger.find(session, str(request.delivery_id))
            cancelled = await ledger.is_cancelled(session, request.message_id)
        if claim is Claim.BUSY or entry is None:
            return None
        if claim is Claim.HANDED:
            log.info(
                "delivery %s was already handed to %s; not sending again", request.delivery_id, entry.provider
            )
            return self._accepted(request, entry)
        if claim is Claim.FINAL:
            state = _ANNOUNCED[LedgerState(entry.state)]
            return self._status(request, state, provider=entry.provider, reason=entry.reason)
        if cancelled:
            return await self._finish(request, LedgerState.CANCELLED, reason="message cancelled")
        if request.expires_at is not None and request.expires_at <= datetime.now(UTC):
            return await self._finish(request, LedgerState.EXPIRED, reason="expired")
        return _GO

    async def retry_due(self, *, limit: int = 200) -> int:
        """Attempt again the deliveries whose retry is due and those a crashed worker left claimed;
        returns how many were looked at."""
        async with self.sessions() as session:
            payloads = [entry.payload for entry in await ledger.due(session, limit=limit)]
        requests = [self._model.model_validate(payload) for payload in payloads if payload]
        by_urgency = sorted(requests, key=lambda request: LANES_BY_PRIORITY.index(request.lane))
        await asyncio.gather(*(self.handle_batch([request]) for request in by_urgency))
        return len(requests)

    async def report(
        self, *, delivery_id: str, state: DeliveryState, reason: str | None = None
    ) -> DeliveryStatusChanged | None:
        """The provider's later word on a delivery it accepted (delivered, or failed after all); None when
        the delivery is not one this dispatcher handed over."""
        async with self.sessions() as session:
            entry = await ledger.find(session, delivery_id)
        if (
            entry is None
            or entry.state != LedgerState.HANDED
            or not entry.subscriber_id
            or not entry.contact_id
        ):
            return None
        status = DeliveryStatusChanged(
            delivery_id=UUID(entry.delivery_id),
            message_id=UUID(entry.message_id),
            subscriber_id=UUID(entry.subscriber_id),
            contact_id=UUID(entry.contact_id),
            channel=self.channel,
            state=state,
            occurred_at=datetime.now(UTC),
            provider=entry.provider,
            provider_message_id=entry.provider_message_id,
            reason=reason,
            attempt=entry.attempts,
            segments=entry.segments,
        )
        await self.publish_status(status)
        return status

    async def cancel(self, cancellation: MessageCancelled) -> None:
        """Stop every delivery of the message not yet handed; a repeated cancellation changes nothing."""
        async with self.sessions() as session, session.begin():
            await ledger.mark_cancelled(
                session, message_id=cancellation.message_id, cancelled_at=cancellation.cancelled_at
            )

    async def _refused(
        self, request: RequestT, index: int, account: Account[RequestT], exc: ProviderError
    ) -> DeliveryStatusChanged:
        provider = account.provider
        labels = (self.channel.value, provider.name, request.lane.value)
        if isinstance(exc, RetryableProviderError):
            self.failover.failed(index)
            if exc.retry_after:
                account.limits.pause(exc.retry_after)
            return await self._retry_later(request, exc, provider)
        self.failover.succeeded(index)  # the provider answered: it is up, the delivery is what failed
        if isinstance(exc, ContactInvalidError):
            metrics.FAILED.labels(*labels, "contact_invalid").inc()
            return await self._finish(
                request, LedgerState.CONTACT_INVALID, reason=exc.reason, provider=provider
            )
        metrics.FAILED.labels(*labels, "permanent").inc()
        return await self._finish(request, LedgerState.FAILED, reason=exc.reason, provider=provider)

    async def _handed(
        self, request: RequestT, index: int, account: Account[RequestT], receipt: Receipt
    ) -> DeliveryStatusChanged:
        provider = account.provider
        self.failover.succeeded(index)
        async with self.sessions() as session, session.begin():
            entry = await ledger.record(
                session,
                request=request,
                state=LedgerState.HANDED,
                provider=provider.name,
                provider_message_id=receipt.provider_message_id,
                segments=receipt.segments,
            )
        labels = (self.channel.value, provider.name, request.lane.value)
        metrics.SENT.labels(*labels).inc()
        metrics.ACCEPTANCE.labels(*labels).observe((datetime.now(UTC) - request.requested_at).total_seconds())
        return self._accepted(request, entry)

    async def _retry_later(
        self, request: RequestT, exc: RetryableProviderError, provider: Provider[RequestT]
    ) -> DeliveryStatusChanged:
        """Schedule the next attempt, or give up and dead-letter the request once the attempts are used."""
        labels = (self.channel.value, provider.name, request.lane.value)
        async with self.sessions() as session, session.begin():
            entry = await ledger.find(session, str(request.delivery_id))
            attempts = (entry.attempts if entry else 0) + 1
            delay = self.retry.delay(attempts=attempts, retry_after=exc.retry_after)
            if delay is not None:
                at = datetime.now(UTC) + timedelta(seconds=delay)
                await ledger.schedule_retry(session, request=request, at=at, reason=exc.reason)
        if delay is not None:
            metrics.RETRIED.labels(*labels).inc()
            log.info(
                "delivery %s: attempt %d failed (%s); next in %.1f s",
                request.delivery_id,
                attempts,
                exc.reason,
                delay,
            )
            return self._status(
                request, DeliveryState.FAILED, provider=provider.name, reason=exc.reason, retryable=True
            )
        reason = f"gave up after {attempts} attempts: {exc.reason}"
        metrics.FAILED.labels(*labels, "gave_up").inc()
        await self.publish_dead_letter(self._dead_letter(request, reason))
        return await self._finish(request, LedgerState.FAILED, reason=reason, provider=provider)

    def _dead_letter(self, request: RequestT, reason: str) -> DeadLetter:
        """The request itself, as it came, for an operator to look at or send again by hand."""
        return DeadLetter(
            service=self.service,
            source_topic=delivery_topic(self.channel, request.lane),
            partition=-1,  # given up on after retries from the ledger, not straight off a partition
            offset=-1,
            key=str(request.subscriber_id),
            value=base64.b64encode(request.model_dump_json().encode()).decode("ascii"),
            reason=reason,
            failed_at=datetime.now(UTC),
        )

    async def _finish(
        self,
        request: RequestT,
        entry_state: LedgerState,
        *,
        reason: str,
        provider: Provider[RequestT] | None = None,
    ) -> DeliveryStatusChanged:
        name = provider.name if provider else None
        async with self.sessions() as session, session.begin():
            await ledger.record(session, request=request, state=entry_state, provider=name, reason=reason)
        return self._status(request, _ANNOUNCED[entry_state], provider=name, reason=reason)

    def _accepted(self, request: RequestT, entry: LedgerEntry) -> DeliveryStatusChanged:
        return self._status(
            request,
            DeliveryState.ACCEPTED,
            provider=entry.provider,
            provider_message_id=entry.provider_message_id,
            segments=entry.segments,
        )

    def _status(
        self,
        request: RequestT,
        state: DeliveryState,
        *,
        provider: str | None,
        provider_message_id: str | None = None,
        segments: int | None = None,
        reason: str | None = None,
        retryable: bool = False,
    ) -> DeliveryStatusChanged:
        return DeliveryStatusChanged(
            delivery_id=request.delivery_id,
            message_id=request.message_id,
            subscriber_id=request.subscriber_id,
            contact_id=request.contact_id,
            channel=self.channel,
            state=state,
            occurred_at=datetime.now(UTC),
            provider=provider,
            provider_message_id=provider_message_id,
            reason=reason,
            retryable=retryable,
            segments=segments,
        )

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
from hlasatel_dispatch import lease, ledger, metrics, outcomes
from hlasatel_dispatch.circuit import CircuitBreaker, Failover
from hlasatel_dispatch.ledger import Claim, LedgerState, Recorded, Taken
from hlasatel_dispatch.limits import AccountLimits
from hlasatel_dispatch.outcomes import Settlement, Verdict
from hlasatel_dispatch.priority import LanePriority
from hlasatel_dispatch.providers import Provider, ProviderError, Receipt, RequestT, unexpected
from hlasatel_dispatch.retry import RetryPolicy

log = logging.getLogger(__name__)


PublishStatuses = Callable[[Sequence[DeliveryStatusChanged]], Awaitable[None]]
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
    """Claims a chunk of deliveries in the ledger before their provider calls, keeps the claims fresh
    during them and records the outcomes after them, never holding a transaction across a call; retries
    retryable failures later, from the ledger, without holding up the consumer; fails over to the second
    account while the first one keeps failing."""

    def __init__(
        self,
        *,
        channel: Channel,
        accounts: Sequence[Account[RequestT]],
        sessions: async_sessionmaker[AsyncSession],
        publish_statuses: PublishStatuses,
        publish_dead_letter: PublishDeadLetter,
        retry: RetryPolicy | None = None,
        breaker: Callable[[], CircuitBreaker] = CircuitBreaker,
        priority: LanePriority | None = None,
        stale_after_s: float = 30.0,
        max_request_age: timedelta | None = None,
    ) -> None:
        self.channel = channel
        self.service = f"dispatch-{channel.value}"
        self.failover: Failover[Account[RequestT]] = Failover(accounts, breaker=breaker)
        self.sessions = sessions
        self.publish_statuses = publish_statuses
        self.publish_dead_letter = publish_dead_letter
        self.retry = retry or RetryPolicy()
        self.priority = priority or LanePriority()
        self.stale_after_s = stale_after_s
        self.max_request_age = max_request_age
        self._model: type[RequestT] = DELIVERY_REQUEST_BY_CHANNEL[channel]  # type: ignore[assignment]

    async def handle_batch(self, requests: Sequence[RequestT]) -> None:
        """A batch from one lane, after more urgent lanes: in chunks of one provider call where the provider
        has a batch API, otherwise of as many calls as the account may have in flight at once."""
        if not requests:
            return
        async with self.priority.working(requests[0].lane):
            _, account = self.failover.choose()
            batch_api = account.provider.max_batch > 1
            size = account.provider.max_batch if batch_api else account.limits.concurrency
            for start in range(0, len(requests), size):
                await self._handle_chunk(requests[start : start + size])

    async def handle(self, request: RequestT) -> DeliveryStatusChanged | None:
        """Deliver at most once; a repeat announces the outcome the delivery already had. Returns the
        status published, or None when another worker has the delivery in hand."""
        statuses = await self._handle_chunk([request])
        return statuses[0] if statuses else None

    async def _handle_chunk(self, requests: Sequence[RequestT]) -> list[DeliveryStatusChanged]:
        """Claim the chunk, call the provider for what may go, record every outcome: two short transactions
        around the calls, never one across them. Returns the statuses published."""
        await self.priority.turn(requests[0].lane)
        going, statuses = await self._claimed(requests)
        if going:
            (claimed_at,) = {took.claimed_at for _, took in going}  # one transaction, one time
            assert claimed_at is not None
            ids = [str(request.delivery_id) for request, _ in going]
            stale_after_s = self.stale_after_s
            async with lease.held(self.sessions, ids, claimed_at=claimed_at, stale_after_s=stale_after_s):
                index, account = self.failover.choose()
                try:
                    results = await self._call(account, [request for request, _ in going])
                except Exception as exc:  # whatever happens, every claimed delivery gets its outcome
                    results = [unexpected(exc, account.provider.name)] * len(going)
                statuses += await self._settled(going, results, index, account)
        await self.publish_statuses(statuses)
        return statuses

    async def _claimed(
        self, requests: Sequence[RequestT]
    ) -> tuple[list[tuple[RequestT, Taken]], list[DeliveryStatusChanged]]:
        """The deliveries to hand over now, and the statuses of those that are not to be sent (again):
        already handed or finished, cancelled, expired. Another worker's claims are left to it."""
        going: list[tuple[RequestT, Taken]] = []
        statuses: list[DeliveryStatusChanged] = []
        dropped: list[tuple[RequestT, Settlement]] = []
        now = datetime.now(UTC)
        oldest = now - self.max_request_age if self.max_request_age is not None else None
        async with self.sessions() as session, session.begin():
            taken = await ledger.claim(session, requests, stale_after_s=self.stale_after_s)
            for request, took in zip(requests, taken, strict=True):
                if took.claim is Claim.BUSY:
                    continue
                if took.claim is not Claim.GRANTED:
                    statuses.append(self._repeated(request, took))
                elif settled := outcomes.before_call(
                    request, took, now=now, oldest=oldest, max_attempts=self.retry.max_attempts
                ):
                    dropped.append((request, settled))
                else:
                    going.append((request, took))
            await ledger.record(session, [settled.outcome for _, settled in dropped])
        for request, settled in dropped:
            if settled.dead_letter:
                await self.publish_dead_letter(self._dead_letter(request, settled.dead_letter))
        statuses += [self._announced(request, settled.outcome) for request, settled in dropped]
        return going, statuses

    def _repeated(self, request: RequestT, took: Taken) -> DeliveryStatusChanged:
        """The status a delivery already had, announced again for a repeated request."""
        if took.claim is Claim.HANDED:
            log.info(
                "delivery %s was already handed to %s; not sending again", request.delivery_id, took.provider
            )
        return self._announced(request, took)

    async def _call(
        self, account: Account[RequestT], requests: list[RequestT]
    ) -> list[Receipt | ProviderError]:
        """The provider calls, within the account's rate and concurrency: one call for the chunk where the
        provider has a batch API, otherwise one per delivery side by side."""
        provider, limits = account.provider, account.limits
        if provider.max_batch > 1:
            async with limits.slot():
                for _ in requests:
                    await limits.token()
                return await provider.send_many(requests)

        async def one(request: RequestT) -> Receipt | ProviderError:
            async with limits.slot():
                await limits.token()
                return await provider.attempt(request)

        return list(await asyncio.gather(*(one(request) for request in requests)))

    async def _settled(
        self,
        going: list[tuple[RequestT, Taken]],
        results: list[Receipt | ProviderError],
        index: int,
        account: Account[RequestT],
    ) -> list[DeliveryStatusChanged]:
        """Every outcome recorded in one transaction, the given-up requests dead-lettered first; returns
        their statuses. What each outcome is, `outcomes.after_call` decides; this applies it."""
        name = account.provider.name
        now = datetime.now(UTC)
        settled = [
            (request, outcomes.after_call(request, took, result, provider=name, retry=self.retry, now=now))
            for (request, took), result in zip(going, results, strict=True)
        ]
        for request, settlement in settled:
            if settlement.provider_up:
                self.failover.succeeded(index)
            else:
                self.failover.failed(index)
            if settlement.pause_s:
                account.limits.pause(settlement.pause_s)
            self._counted(request, settlement, name, now)
            if settlement.dead_letter:
                await self.publish_dead_letter(self._dead_letter(request, settlement.dead_letter))
        async with self.sessions() as session, session.begin():
            await ledger.record(session, [settlement.outcome for _, settlement in settled])
        return [self._announced(request, settlement.outcome) for request, settlement in settled]

    def _counted(self, request: RequestT, settlement: Settlement, provider: str, now: datetime) -> None:
        """A provider's answer in the metrics and, for a retry, the log."""
        labels = (self.channel.value, provider, request.lane.value)
        verdict = settlement.verdict
        if verdict is Verdict.SENT:
            metrics.SENT.labels(*labels).inc()
            metrics.ACCEPTANCE.labels(*labels).observe((now - request.requested_at).total_seconds())
        elif verdict is Verdict.RETRY:
            metrics.RETRIED.labels(*labels).inc()
            outcome = settlement.outcome
            assert outcome.due_at is not None
            log.info(
                "delivery %s: an attempt failed (%s); next in %.1f s",
                request.delivery_id,
                outcome.reason,
                (outcome.due_at - now).total_seconds(),
            )
        else:
            metrics.FAILED.labels(*labels, verdict.value).inc()

    async def retry_due(self, *, limit: int = 200) -> int:
        """Attempt again the deliveries whose retry is due and those a crashed worker left claimed;
        returns how many were looked at."""
        async with self.sessions() as session:
            payloads = [entry.payload for entry in await ledger.due(session, limit=limit)]
        requests = [self._model.model_validate(payload) for payload in payloads if payload]
        by_lane = [[request for request in requests if request.lane is lane] for lane in LANES_BY_PRIORITY]
        await asyncio.gather(*(self.handle_batch(lane) for lane in by_lane if lane))
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
        await self.publish_statuses([status])
        return status

    async def forget_erased(self, subscriber_ids: Sequence[str]) -> int:
        """Subscribers the registry erased: their deliveries not yet handed over are stopped, and the
        requests waiting for a retry (with their contacts) deleted. Returns how many were stopped."""
        async with self.sessions() as session, session.begin():
            return await ledger.mark_erased(
                session, subscriber_ids=subscriber_ids, erased_at=datetime.now(UTC)
            )

    async def cancel(self, cancellation: MessageCancelled) -> None:
        """Stop every delivery of the message not yet handed; a repeated cancellation changes nothing."""
        async with self.sessions() as session, session.begin():
            await ledger.mark_cancelled(
                session, message_id=cancellation.message_id, cancelled_at=cancellation.cancelled_at
            )

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

    def _announced(self, request: RequestT, recorded: Recorded) -> DeliveryStatusChanged:
        """The status that tells what the ledger recorded of the delivery: handed over is `accepted`, a
        retry to come is a retryable `failed`."""
        retrying = recorded.state is LedgerState.RETRY_WAIT
        if recorded.state is LedgerState.HANDED:
            state = DeliveryState.ACCEPTED
        else:
            state = DeliveryState.FAILED if retrying else _ANNOUNCED[recorded.state]
        return self._status(
            request,
            state,
            provider=recorded.provider,
            provider_message_id=recorded.provider_message_id,
            segments=recorded.segments,
            reason=recorded.reason,
            retryable=retrying,
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

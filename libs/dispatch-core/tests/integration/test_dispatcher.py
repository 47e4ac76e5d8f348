"""The shared dispatch mechanism with a provider fake we own, on a real database."""

import asyncio
import base64
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import (
    Channel,
    DeadLetter,
    DeliveryState,
    DeliveryStatusChanged,
    Lane,
    MessageCancelled,
    SendSms,
)
from hlasatel_devstack.testing import sessions_on
from hlasatel_dispatch import ledger
from hlasatel_dispatch.circuit import CircuitBreaker
from hlasatel_dispatch.dispatcher import Account, Dispatcher
from hlasatel_dispatch.ledger import Base, CancelledMessage, Claim, LedgerEntry
from hlasatel_dispatch.limits import AccountLimits
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    PermanentProviderError,
    Provider,
    ProviderError,
    Receipt,
    RetryableProviderError,
)
from hlasatel_dispatch.retry import RetryPolicy


class FakeProvider(Provider[SendSms]):
    channel = Channel.SMS
    name = "fake"

    def __init__(self, error: ProviderError | None = None) -> None:
        self.sent: list[SendSms] = []
        self.error = error

    async def _send(self, request: SendSms) -> Receipt:
        if self.error:
            raise self.error
        self.sent.append(request)
        return Receipt(provider_message_id=f"fake-{len(self.sent)}", segments=2)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with sessions_on(database_url, Base.metadata) as sessions:
        yield sessions


def sms(expires_at: datetime | None = None, message_id: UUID | None = None) -> SendSms:
    return SendSms(
        delivery_id=uuid4(),
        message_id=message_id or uuid4(),
        subscriber_id=uuid4(),
        contact_id=uuid4(),
        lane=Lane.BULK,
        category="water",
        requested_at=datetime.now(UTC),
        expires_at=expires_at,
        to="+420777000001",
        text="Voda",
    )


class Bus:
    """What the dispatcher published: statuses and dead letters."""

    def __init__(self) -> None:
        self.statuses: list[DeliveryStatusChanged] = []
        self.dead_letters: list[DeadLetter] = []
        self.publishes: list[int] = []  # how many statuses each publish carried

    async def status(self, statuses: Sequence[DeliveryStatusChanged]) -> None:
        self.statuses.extend(statuses)
        self.publishes.append(len(statuses))

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.dead_letters.append(letter)


def dispatcher(
    provider: FakeProvider,
    sessions: async_sessionmaker[AsyncSession],
    statuses: list[DeliveryStatusChanged] | Bus,
    *,
    secondary: FakeProvider | None = None,
    retry: RetryPolicy | None = None,
    breaker: Callable[[], CircuitBreaker] = CircuitBreaker,
    stale_after_s: float = 120.0,
) -> Dispatcher[SendSms]:
    bus = statuses if isinstance(statuses, Bus) else Bus()
    if not isinstance(statuses, Bus):
        bus.statuses = statuses
    providers = [provider] if secondary is None else [provider, secondary]
    return Dispatcher(
        channel=Channel.SMS,
        accounts=[Account(p, AccountLimits(rate_per_s=1000, concurrency=10)) for p in providers],
        sessions=sessions,
        publish_statuses=bus.status,
        publish_dead_letter=bus.dead_letter,
        retry=retry,
        breaker=breaker,
        stale_after_s=stale_after_s,
    )


class TestStatuses:
    async def test_a_chunks_statuses_go_out_in_one_publish(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        """One publish per chunk of calls (the account's concurrency, 10 here), not one per delivery."""
        bus, requests = Bus(), [sms() for _ in range(25)]
        await dispatcher(FakeProvider(), sessions, bus).handle_batch(requests)
        assert bus.publishes == [10, 10, 5]
        assert {s.delivery_id for s in bus.statuses} == {r.delivery_id for r in requests}
        assert {s.state for s in bus.statuses} == {DeliveryState.ACCEPTED}


class TestIdempotency:
    async def test_a_repeated_request_is_not_sent_again_but_its_status_is_repeated(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, statuses = FakeProvider(), list[DeliveryStatusChanged]()
        request = sms()
        for _ in range(3):
            await dispatcher(provider, sessions, statuses).handle(request)
        assert len(provider.sent) == 1
        assert [s.state for s in statuses] == [DeliveryState.ACCEPTED] * 3
        assert {s.provider_message_id for s in statuses} == {"fake-1"}
        async with sessions() as session:
            entry = await session.get(LedgerEntry, str(request.delivery_id))
        assert entry is not None and (entry.state, entry.attempts, entry.segments) == ("handed", 1, 2)

    async def test_a_failed_delivery_may_be_tried_again(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        statuses: list[DeliveryStatusChanged] = []
        request = sms()
        await dispatcher(
            FakeProvider(RetryableProviderError("gateway error 503")), sessions, statuses
        ).handle(request)
        provider = FakeProvider()
        await dispatcher(provider, sessions, statuses).handle(request)
        assert [(s.state, s.retryable) for s in statuses] == [
            (DeliveryState.FAILED, True),
            (DeliveryState.ACCEPTED, False),
        ]
        assert len(provider.sent) == 1


class TestOutcomes:
    async def test_an_expired_delivery_is_dropped_without_calling_the_provider(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, statuses = FakeProvider(), list[DeliveryStatusChanged]()
        await dispatcher(provider, sessions, statuses).handle(
            sms(expires_at=datetime.now(UTC) - timedelta(1))
        )
        assert provider.sent == []
        assert statuses[0].state is DeliveryState.EXPIRED

    async def test_a_contact_that_does_not_exist_is_reported_with_the_reason(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        statuses: list[DeliveryStatusChanged] = []
        provider = FakeProvider(ContactInvalidError("gateway refused: HTTP 400, code 21211"))
        await dispatcher(provider, sessions, statuses).handle(sms())
        (status,) = statuses
        assert status.state is DeliveryState.CONTACT_INVALID
        assert status.reason == "gateway refused: HTTP 400, code 21211"
        assert not status.retryable


def cancellation(message_id: UUID, cancelled_at: datetime | None = None) -> MessageCancelled:
    return MessageCancelled(message_id=message_id, cancelled_at=cancelled_at or datetime.now(UTC))


class TestCancellation:
    async def test_a_delivery_of_a_cancelled_message_is_never_sent_and_is_reported_cancelled(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, statuses = FakeProvider(), list[DeliveryStatusChanged]()
        request = sms()
        sms_dispatcher = dispatcher(provider, sessions, statuses)
        await sms_dispatcher.cancel(cancellation(request.message_id))
        for _ in range(2):
            await sms_dispatcher.handle(request)
        assert provider.sent == []
        assert [(s.state, s.reason) for s in statuses] == [(DeliveryState.CANCELLED, "message cancelled")] * 2
        async with sessions() as session:
            entry = await session.get(LedgerEntry, str(request.delivery_id))
        assert entry is not None and entry.state == "cancelled"

    async def test_a_delivery_handed_before_the_cancellation_still_reports_accepted(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, statuses = FakeProvider(), list[DeliveryStatusChanged]()
        sms_dispatcher = dispatcher(provider, sessions, statuses)
        handed = sms()
        await sms_dispatcher.handle(handed)
        await sms_dispatcher.cancel(cancellation(handed.message_id))
        await sms_dispatcher.handle(handed)
        await sms_dispatcher.handle(sms(message_id=handed.message_id))
        assert [s.state for s in statuses] == [
            DeliveryState.ACCEPTED,
            DeliveryState.ACCEPTED,
            DeliveryState.CANCELLED,
        ]
        assert provider.sent == [handed]

    async def test_a_cancellation_applied_twice_is_harmless_and_keeps_the_first_time(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        sms_dispatcher = dispatcher(FakeProvider(), sessions, [])
        message_id, first = uuid4(), datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        await sms_dispatcher.cancel(cancellation(message_id, first))
        await sms_dispatcher.cancel(cancellation(message_id, first + timedelta(minutes=5)))
        async with sessions() as session:
            rows = (await session.scalars(select(CancelledMessage))).all()
            assert await ledger.is_cancelled(session, message_id)
            assert not await ledger.is_cancelled(session, uuid4())
        assert [(row.message_id, row.cancelled_at) for row in rows] == [(str(message_id), first)]


class Scripted(FakeProvider):
    """Fails with the scripted errors in turn, then takes everything."""

    def __init__(self, *errors: ProviderError, name: str = "scripted") -> None:
        super().__init__()
        self.name = name
        self.script = list(errors)
        self.calls = 0

    async def _send(self, request: SendSms) -> Receipt:
        self.calls += 1
        if self.script:
            raise self.script.pop(0)
        return await super()._send(request)


async def entry_of(sessions: async_sessionmaker[AsyncSession], request: SendSms) -> LedgerEntry:
    async with sessions() as session:
        entry = await session.get(LedgerEntry, str(request.delivery_id))
    assert entry is not None
    return entry


async def make_due(sessions: async_sessionmaker[AsyncSession], request: SendSms) -> None:
    """Let the retry's time come now instead of waiting for it."""
    async with sessions() as session, session.begin():
        entry = await session.get(LedgerEntry, str(request.delivery_id))
        assert entry is not None
        entry.due_at = datetime.now(UTC) - timedelta(seconds=1)


class TestRetries:
    async def test_a_retryable_failure_is_tried_again_when_due_and_then_accepted(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Scripted(RetryableProviderError("gateway error 503")), Bus()
        sender = dispatcher(provider, sessions, bus, retry=RetryPolicy(base_s=60))
        request = sms()
        await sender.handle(request)
        entry = await entry_of(sessions, request)
        assert (entry.state, entry.attempts, entry.reason) == ("retry_wait", 1, "gateway error 503")
        assert entry.due_at is not None and entry.due_at > datetime.now(UTC)
        assert await sender.retry_due() == 0  # not yet
        await make_due(sessions, request)
        assert await sender.retry_due() == 1
        assert [(s.state, s.retryable) for s in bus.statuses] == [
            (DeliveryState.FAILED, True),
            (DeliveryState.ACCEPTED, False),
        ]
        assert provider.sent == [request]
        entry = await entry_of(sessions, request)
        assert (entry.state, entry.attempts, entry.payload, entry.due_at) == ("handed", 2, None, None)

    async def test_the_next_attempt_waits_at_least_as_long_as_retry_after_asks(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        limited = RetryableProviderError("gateway rate limit (429)", retry_after=90)
        sender = dispatcher(Scripted(limited), sessions, Bus(), retry=RetryPolicy(base_s=0.001))
        request = sms()
        await sender.handle(request)
        entry = await entry_of(sessions, request)
        assert entry.due_at is not None
        assert entry.due_at >= datetime.now(UTC) + timedelta(seconds=85)

    async def test_after_the_last_attempt_it_fails_for_good_and_goes_to_the_dead_letter_topic(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        errors = [RetryableProviderError("gateway timed out (ReadTimeout)") for _ in range(3)]
        provider, bus = Scripted(*errors), Bus()
        sender = dispatcher(provider, sessions, bus, retry=RetryPolicy(max_attempts=3, base_s=0.001))
        request = sms()
        await sender.handle(request)
        for _ in range(2):
            await make_due(sessions, request)
            await sender.retry_due()
        assert provider.calls == 3 and provider.sent == []
        final = bus.statuses[-1]
        assert (final.state, final.retryable) == (DeliveryState.FAILED, False)
        assert final.reason == "gave up after 3 attempts: gateway timed out (ReadTimeout)"
        (letter,) = bus.dead_letters
        assert letter.reason == final.reason and letter.source_topic == "deliveries.sms.bulk.v1"
        assert SendSms.model_validate_json(base64.b64decode(letter.value)) == request
        assert await sender.retry_due() == 0
        await sender.handle(request)  # a late duplicate: announced again, never sent
        assert provider.calls == 3 and bus.statuses[-1].reason == final.reason

    async def test_a_permanent_failure_is_not_retried(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Scripted(PermanentProviderError("gateway refused: HTTP 400, code 21602")), Bus()
        sender = dispatcher(provider, sessions, bus)
        request = sms()
        await sender.handle(request)
        await sender.handle(request)
        assert provider.calls == 1
        assert [(s.state, s.retryable) for s in bus.statuses] == [(DeliveryState.FAILED, False)] * 2


class TestClaims:
    async def test_a_delivery_another_worker_is_sending_is_left_to_it(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = FakeProvider(), Bus()
        request = sms()
        async with sessions() as session, session.begin():
            (taken,) = await ledger.claim(session, [request], stale_after_s=120)
            assert taken.claim is Claim.GRANTED
        assert await dispatcher(provider, sessions, bus).handle(request) is None
        assert provider.sent == [] and bus.statuses == []

    async def test_a_claim_left_by_a_worker_that_died_is_taken_over_once_stale(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = FakeProvider(), Bus()
        request = sms()
        async with sessions() as session, session.begin():
            await ledger.claim(session, [request], stale_after_s=60)
        sender = dispatcher(provider, sessions, bus, stale_after_s=60)
        assert await sender.retry_due() == 0
        await make_due(sessions, request)
        async with sessions() as session, session.begin():
            entry = await session.get(LedgerEntry, str(request.delivery_id))
            assert entry is not None
            entry.claimed_at = datetime.now(UTC) - timedelta(seconds=61)
        assert await sender.retry_due() == 1
        assert provider.sent == [request] and bus.statuses[-1].state is DeliveryState.ACCEPTED

    async def test_a_call_slower_than_the_stale_time_is_not_taken_over_from_a_live_worker(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Slow(seconds=2.0), Bus()
        sender = dispatcher(provider, sessions, bus, stale_after_s=0.5)
        request = sms()
        call = asyncio.create_task(sender.handle(request))
        looked_at = 0
        while not call.done():  # the retry worker polls beside the call, as in the service
            looked_at += await sender.retry_due()
            await asyncio.sleep(0.05)
        await call
        assert looked_at == 0 and provider.sent == [request]
        assert [s.state for s in bus.statuses] == [DeliveryState.ACCEPTED]


class Slow(FakeProvider):
    """A provider that takes its time answering, as FCM with 500 notifications on a loaded machine."""

    def __init__(self, *, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def _send(self, request: SendSms) -> Receipt:
        await asyncio.sleep(self.seconds)
        return await super()._send(request)


class TestFailover:
    async def test_traffic_moves_to_the_second_account_while_the_first_keeps_failing_and_back(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        now = [0.0]
        primary = Scripted(*[RetryableProviderError("gateway error 503")] * 2, name="primary")
        secondary = Scripted(name="secondary")
        breaker = functools.partial(
            CircuitBreaker, failure_threshold=2, reset_after_s=30, clock=lambda: now[0]
        )
        sender = dispatcher(primary, sessions, Bus(), secondary=secondary, breaker=breaker)
        first, second, third, fourth = sms(), sms(), sms(), sms()
        for request in (first, second, third):
            await sender.handle(request)
        assert primary.calls == 2 and secondary.sent == [third]
        now[0] = 31.0  # the primary's circuit lets a trial through, which succeeds
        await sender.handle(fourth)
        assert primary.sent == [fourth]
        for request in (first, second):  # their retries go to whichever account is healthy
            await make_due(sessions, request)
        await sender.retry_due()
        assert sorted(r.delivery_id for r in primary.sent) == sorted(
            r.delivery_id for r in (first, second, fourth)
        )


class Batching(FakeProvider):
    """A provider with a batch API of three, refusing one contact."""

    max_batch = 3

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    async def _send_many(self, requests: Sequence[SendSms]) -> list[Receipt | ProviderError]:
        self.calls.append(len(requests))
        outcomes: list[Receipt | ProviderError] = []
        for request in requests:
            if request.to == "+420700000000":
                outcomes.append(ContactInvalidError("gateway refused: HTTP 400, code 21211"))
            else:
                outcomes.append(await self._send(request))
        return outcomes


class TestBatchProviders:
    async def test_a_lane_batch_goes_in_calls_of_the_providers_size_each_delivery_with_its_outcome(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Batching(), Bus()
        sender = dispatcher(provider, sessions, bus)
        requests = [sms() for _ in range(7)]
        requests[4] = requests[4].model_copy(update={"to": "+420700000000"})
        await sender.handle_batch(requests)
        assert provider.calls == [3, 3, 1]
        states = {s.delivery_id: s.state for s in bus.statuses}
        assert states.pop(requests[4].delivery_id) is DeliveryState.CONTACT_INVALID
        assert set(states.values()) == {DeliveryState.ACCEPTED} and len(states) == 6
        await sender.handle_batch(requests[:3])  # the same again: announced, not sent
        assert provider.calls == [3, 3, 1] and len(bus.statuses) == 10

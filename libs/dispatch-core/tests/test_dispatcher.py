"""The shared dispatch mechanism with a provider fake we own, on a real database."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import Channel, DeliveryState, DeliveryStatusChanged, Lane, MessageCancelled, SendSms
from hlasatel_devstack.testing import sessions_on
from hlasatel_dispatch import ledger
from hlasatel_dispatch.dispatcher import Dispatcher
from hlasatel_dispatch.ledger import Base, CancelledMessage, LedgerEntry
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    Provider,
    ProviderError,
    Receipt,
    RetryableProviderError,
)


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


def dispatcher(
    provider: FakeProvider, sessions: async_sessionmaker[AsyncSession], statuses: list[DeliveryStatusChanged]
) -> Dispatcher[SendSms]:
    async def publish(status: DeliveryStatusChanged) -> None:
        statuses.append(status)

    return Dispatcher(channel=Channel.SMS, provider=provider, sessions=sessions, publish_status=publish)


class TestIdempotency:
    async def test_a_repeated_request_is_not_sent_again_but_its_status_is_repeated(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, statuses = FakeProvider(), []
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
        provider, statuses = FakeProvider(), []
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
        provider, statuses = FakeProvider(), []
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
        provider, statuses = FakeProvider(), []
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

"""Hostile answers and records in the shared dispatch mechanism: a provider that raises what no provider
error tree knows, a delivery that kills its worker, an erased subscriber's backlog, requests older than
the ledger remembers. Each test failed on the code before the hardening."""

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError
from uuid import uuid4

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import Channel, DeliveryState, SendSms
from hlasatel_devstack.dispatching import common_fields
from hlasatel_devstack.testing import sessions_on
from hlasatel_dispatch import ledger
from hlasatel_dispatch.dispatcher import Account, Dispatcher
from hlasatel_dispatch.ledger import Base, LedgerEntry
from hlasatel_dispatch.limits import AccountLimits
from hlasatel_dispatch.providers import Provider, ProviderError, Receipt
from hlasatel_dispatch.retry import RetryPolicy

pytestmark = pytest.mark.hostile


class Raising(Provider[SendSms]):
    """Takes every SMS but those whose text names an exception, which it raises as a library would."""

    channel = Channel.SMS
    name = "raising"

    def __init__(self) -> None:
        self.sent: list[SendSms] = []

    async def _send(self, request: SendSms) -> Receipt:
        if request.text == "header":
            raise HeaderParseError("header value contains a line break")
        if request.text == "json":
            json.loads("<html>a proxy's login page</html>")
        if request.text == "reset":
            raise ConnectionResetError("the gateway hung up")
        self.sent.append(request)
        return Receipt(provider_message_id=f"ok-{len(self.sent)}")


class BatchRaising(Raising):
    max_batch = 500

    async def _send_many(self, requests: Sequence[SendSms]) -> list[Receipt | ProviderError]:
        raise ValueError("the client library could not build the batch")


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with sessions_on(database_url, Base.metadata) as made:
        yield made


def sms(text: str = "Voda", *, requested_at: datetime | None = None) -> SendSms:
    fields = common_fields(uuid4()) | ({"requested_at": requested_at} if requested_at else {})
    return SendSms(**fields, to="+420777000001", text=text)


class Bus:
    def __init__(self) -> None:
        self.statuses: list[object] = []
        self.letters: list[object] = []

    async def status(self, statuses: Sequence[object]) -> None:
        self.statuses.extend(statuses)

    async def letter(self, letter: object) -> None:
        self.letters.append(letter)


def dispatcher(
    provider: Provider[SendSms], sessions: async_sessionmaker[AsyncSession], bus: Bus, **kwargs: object
) -> Dispatcher[SendSms]:
    return Dispatcher(
        channel=Channel.SMS,
        accounts=[Account(provider, AccountLimits(rate_per_s=1000, concurrency=10))],
        sessions=sessions,
        publish_statuses=bus.status,
        publish_dead_letter=bus.letter,
        **kwargs,  # type: ignore[arg-type]
    )


async def entries(sessions: async_sessionmaker[AsyncSession]) -> dict[str, LedgerEntry]:
    async with sessions() as session:
        return {row.delivery_id: row for row in await session.scalars(select(LedgerEntry))}


class TestAnythingAProviderRaisesIsAnOutcome:
    async def test_errors_outside_the_tree_fail_their_delivery_alone_and_nothing_stays_claimed(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Raising(), Bus()
        batch = [sms("header"), sms("json"), sms("reset"), sms("fine")]
        await dispatcher(provider, sessions, bus).handle_batch(batch)
        found = await entries(sessions)
        states = {request.text: found[str(request.delivery_id)] for request in batch}
        assert states["header"].state == "failed" and "HeaderParseError" in (states["header"].reason or "")
        assert states["json"].state == "failed" and "JSONDecodeError" in (states["json"].reason or "")
        assert states["reset"].state == "retry_wait", "a connection that broke is worth another try"
        assert states["fine"].state == "handed" and [r.text for r in provider.sent] == ["fine"]
        assert {entry.claimed_at for entry in found.values()} == {None}
        assert "+420" not in " ".join(entry.reason or "" for entry in found.values())

    async def test_a_batch_call_that_raises_gives_every_delivery_its_outcome(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        bus = Bus()
        batch = [sms() for _ in range(3)]
        await dispatcher(BatchRaising(), sessions, bus).handle_batch(batch)
        found = await entries(sessions)
        assert {entry.state for entry in found.values()} == {"failed"} and len(found) == 3
        assert len(bus.statuses) == 3


class TestATakeOverIsAnAttempt:
    async def test_a_delivery_whose_worker_keeps_dying_is_given_up_after_the_attempts(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Raising(), Bus()
        request = sms()
        sender = dispatcher(provider, sessions, bus, retry=RetryPolicy(max_attempts=3), stale_after_s=1)
        async with sessions() as session, session.begin():
            await ledger.claim(session, [request], stale_after_s=1)
        for attempt in range(1, 3):
            # the worker that claimed it died during its call: the claim goes stale and is taken over
            async with sessions() as session, session.begin():
                await session.execute(
                    update(LedgerEntry)
                    .where(LedgerEntry.delivery_id == str(request.delivery_id))
                    .values(state="sending", claimed_at=datetime.now(UTC) - timedelta(seconds=5))
                )
            taken_over = await _claim_again(sessions, request)
            assert taken_over.attempts == attempt
            async with sessions() as session, session.begin():
                await session.execute(
                    update(LedgerEntry)
                    .where(LedgerEntry.delivery_id == str(request.delivery_id))
                    .values(claimed_at=datetime.now(UTC) - timedelta(seconds=5))
                )
        await sender.handle_batch([request])
        entry = (await entries(sessions))[str(request.delivery_id)]
        assert entry.state == "failed" and "gave up after 3 attempts" in (entry.reason or "")
        assert provider.sent == [] and len(bus.letters) == 1


async def _claim_again(sessions: async_sessionmaker[AsyncSession], request: SendSms) -> ledger.Taken:
    async with sessions() as session, session.begin():
        (took,) = await ledger.claim(session, [request], stale_after_s=1)
    assert took.claim is ledger.Claim.GRANTED and took.taken_over
    return took


class TestErasureAndAge:
    async def test_an_erased_subscribers_backlog_is_not_sent_and_its_retries_forget_the_request(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Raising(), Bus()
        sender = dispatcher(provider, sessions, bus)
        waiting, queued = sms("reset"), sms()
        queued = queued.model_copy(update={"subscriber_id": waiting.subscriber_id})
        await sender.handle_batch([waiting])  # a retry waits, with the request and its number
        stopped = await sender.forget_erased([str(waiting.subscriber_id)])
        assert stopped == 1
        await sender.handle_batch([queued])
        found = await entries(sessions)
        assert found[str(waiting.delivery_id)].state == "cancelled"
        assert found[str(waiting.delivery_id)].payload is None
        assert found[str(queued.delivery_id)].state == "cancelled"
        assert found[str(queued.delivery_id)].reason == "subscriber erased" and provider.sent == []

    async def test_a_request_older_than_the_ledger_remembers_is_not_sent(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        provider, bus = Raising(), Bus()
        sender = dispatcher(provider, sessions, bus, max_request_age=timedelta(days=6))
        old = sms(requested_at=datetime.now(UTC) - timedelta(days=6, minutes=1))
        await sender.handle_batch([old, sms()])
        found = await entries(sessions)
        assert found[str(old.delivery_id)].state == "expired" and len(provider.sent) == 1
        assert bus.statuses[0].state is DeliveryState.EXPIRED  # type: ignore[attr-defined]

    async def test_the_ledger_forgets_finished_deliveries_after_the_retention_period(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        await dispatcher(Raising(), sessions, Bus()).handle_batch([sms(), sms("reset")])
        async with sessions() as session, session.begin():
            forgotten = await ledger.forget_older_than(
                session, before=datetime.now(UTC) + timedelta(seconds=1)
            )
        assert forgotten == 1, "the delivery still waiting for a retry is kept"
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(LedgerEntry)) == 1

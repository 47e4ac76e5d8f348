"""Cancelling a message through the real broker: a dispatcher built as the services build theirs, its
consumers on the bus, and a provider of the test's own that can be slow."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from faststream.kafka import KafkaBroker

from hlasatel_contracts import (
    DELIVERY_STATUS,
    LANES_BY_PRIORITY,
    MESSAGE_CANCELLATIONS,
    Channel,
    DeliveryState,
    DeliveryStatusChanged,
    Lane,
    MessageCancelled,
    SendSms,
    delivery_topic,
)
from hlasatel_devstack.bus import read_until
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import quick_kafka
from hlasatel_dispatch import ledger
from hlasatel_dispatch.config import ProviderAccount
from hlasatel_dispatch.dispatcher import Dispatcher
from hlasatel_dispatch.providers import Provider, Receipt
from hlasatel_dispatch.service import build_dispatcher_app
from hlasatel_runtime.kafka import build_broker

from .conftest import OneAccount


class SlowProvider(Provider[SendSms]):
    """Takes every SMS, after `delay_s`."""

    channel = Channel.SMS

    def __init__(self, name: str) -> None:
        self.name = name
        self.delay_s = 0.0
        self.handed: list[SendSms] = []

    async def _send(self, request: SendSms) -> Receipt:
        await asyncio.sleep(self.delay_s)
        self.handed.append(request)
        return Receipt(provider_message_id=f"slow-{len(self.handed)}")


@dataclass
class Bus:
    """A running dispatcher, the provider it sends to, and a broker to publish as the composer does."""

    dispatcher: Dispatcher[SendSms]
    publisher: KafkaBroker
    provider: SlowProvider

    async def cancel(self, message_id: UUID) -> None:
        cancellation = MessageCancelled(message_id=message_id, cancelled_at=datetime.now(UTC))
        await self.publisher.publish(cancellation, MESSAGE_CANCELLATIONS, key=str(message_id).encode())

    async def request(self, request: SendSms) -> None:
        topic = delivery_topic(Channel.SMS, request.lane)
        await self.publisher.publish(request, topic, key=str(request.subscriber_id).encode())

    async def until_cancelled(self, message_id: UUID) -> None:
        async with asyncio.timeout(30):
            while True:
                async with self.dispatcher.sessions() as session:
                    if await ledger.is_cancelled(session, message_id):
                        return
                await asyncio.sleep(0.1)

    def handed(self, message_id: UUID) -> list[SendSms]:
        """What the provider took of one message."""
        return [request for request in self.provider.handed if request.message_id == message_id]


@contextlib.asynccontextmanager
async def running_bus(database_url: str, kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Bus]:
    kafka = quick_kafka(kafka_bootstrap)
    settings = OneAccount(
        allow_insecure=ON_LOOPBACK,
        database_url=database_url,
        kafka=kafka,
        concurrency=1,  # one call at a time, so that the backlog is still queued when it is cancelled
    )
    made: list[SlowProvider] = []

    def provider(account: ProviderAccount) -> SlowProvider:
        made.append(SlowProvider(account.name))
        return made[-1]

    app, dispatcher = build_dispatcher_app(channel=Channel.SMS, settings=settings, provider=provider)
    publisher = build_broker(kafka, client_id="test-composer")
    async with app.router.lifespan_context(app), publisher:
        await publisher.start()
        yield Bus(dispatcher, publisher, made[0])


async def statuses_of(bootstrap: str, message_id: UUID, deliveries: int) -> dict[UUID, DeliveryStatusChanged]:
    """The latest status of each delivery of one message, once every delivery has one."""

    def latest(records: list[Any]) -> dict[UUID, DeliveryStatusChanged]:
        statuses = (DeliveryStatusChanged.model_validate_json(record.value) for record in records)
        return {status.delivery_id: status for status in statuses if status.message_id == message_id}

    return latest(
        await read_until(bootstrap, [DELIVERY_STATUS], lambda found: len(latest(found)) >= deliveries)
    )


def sms(message_id: UUID, lane: Lane = Lane.BULK) -> SendSms:
    return SendSms(
        delivery_id=uuid.uuid4(),
        message_id=message_id,
        subscriber_id=uuid.uuid4(),
        contact_id=uuid.uuid4(),
        lane=lane,
        category="water",
        requested_at=datetime.now(UTC),
        to="+420777000001",
        text="Liberec: odstávka vody zrušena",
    )


async def test_requests_published_after_a_cancellation_are_not_sent(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    cancelled, other = uuid.uuid4(), uuid.uuid4()
    async with running_bus(database_url, kafka_bootstrap, tmp_path) as bus:
        await bus.cancel(cancelled)
        await bus.until_cancelled(cancelled)
        for lane in LANES_BY_PRIORITY:
            await bus.request(sms(cancelled, lane))
        await bus.request(sms(other))
        statuses = await statuses_of(kafka_bootstrap, cancelled, len(LANES_BY_PRIORITY))
        (other_status,) = (await statuses_of(kafka_bootstrap, other, 1)).values()
        assert {(s.state, s.reason) for s in statuses.values()} == {
            (DeliveryState.CANCELLED, "message cancelled")
        }
        assert other_status.state is DeliveryState.ACCEPTED
        assert bus.handed(cancelled) == []
        assert len(bus.handed(other)) == 1


async def test_a_backlog_still_waiting_when_the_message_is_cancelled_is_not_sent(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    message_id, backlog = uuid.uuid4(), 40
    async with running_bus(database_url, kafka_bootstrap, tmp_path) as bus:
        bus.provider.delay_s = 0.2
        # until the cancellations consumer has joined, the whole backlog could drain before it hears anything
        warm_up = uuid.uuid4()
        await bus.cancel(warm_up)
        await bus.until_cancelled(warm_up)
        for _ in range(backlog):
            await bus.request(sms(message_id))
        async with asyncio.timeout(30):
            while not bus.handed(message_id):
                await asyncio.sleep(0.05)
        await bus.cancel(message_id)
        statuses = list((await statuses_of(kafka_bootstrap, message_id, backlog)).values())
        handed = bus.handed(message_id)

    accepted = [s for s in statuses if s.state is DeliveryState.ACCEPTED]
    cancelled = [s for s in statuses if s.state is DeliveryState.CANCELLED]
    assert len(accepted) + len(cancelled) == backlog
    assert accepted and cancelled
    assert sorted(request.delivery_id for request in handed) == sorted(s.delivery_id for s in accepted)
    # one consumer works through a lane in turn, so nothing is handed once the cancellation has been applied
    assert max(s.occurred_at for s in accepted) < min(s.occurred_at for s in cancelled)

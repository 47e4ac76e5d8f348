"""A dispatcher's Kafka subscribers as `build_dispatcher_app` wires them, driven through FastStream's
TestKafkaBroker: a cancellation reaches the ledger, the changelog's tombstones (and only they) erase, a
record that does not read is dead-lettered without stopping the rest."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from sqlalchemy import select

from hlasatel_contracts import (
    DEAD_LETTER,
    MESSAGE_CANCELLATIONS,
    SUBSCRIBERS,
    Channel,
    DeadLetter,
    MessageCancelled,
    SendSms,
    SubscriberErased,
)
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import sessions_on
from hlasatel_dispatch import ledger
from hlasatel_dispatch.dispatcher import Dispatcher
from hlasatel_dispatch.ledger import Base, ErasedSubscriber
from hlasatel_dispatch.providers import Provider, Receipt
from hlasatel_dispatch.service import build_dispatcher_app

from .conftest import OneAccount


class Never(Provider[SendSms]):
    channel = Channel.SMS

    def __init__(self, name: str) -> None:
        self.name = name

    async def _send(self, request: SendSms) -> Receipt:
        raise AssertionError("these tests send nothing")


@pytest.fixture
async def wired(database_url: str) -> AsyncIterator[tuple[Dispatcher[Any], Any, list[DeadLetter]]]:
    async with sessions_on(database_url, Base.metadata):
        pass
    settings = OneAccount(database_url=database_url, allow_insecure=ON_LOOPBACK)
    app, dispatcher = build_dispatcher_app(
        channel=Channel.SMS, settings=settings, provider=lambda account: Never(account.name)
    )
    broker = app.state.broker
    letters: list[DeadLetter] = []

    @broker.subscriber(DEAD_LETTER)
    async def dead(letter: DeadLetter) -> None:
        letters.append(letter)

    async with TestKafkaBroker(broker) as test_broker:
        yield dispatcher, test_broker, letters


async def test_a_cancellation_on_the_bus_reaches_the_ledger(
    wired: tuple[Dispatcher[Any], Any, list[DeadLetter]],
) -> None:
    dispatcher, broker, _ = wired
    message_id = uuid4()
    await broker.publish(
        MessageCancelled(message_id=message_id, cancelled_at=datetime.now(UTC)), MESSAGE_CANCELLATIONS
    )
    async with dispatcher.sessions() as session:
        assert await ledger.is_cancelled(session, message_id)
        assert not await ledger.is_cancelled(session, uuid4())


async def test_only_the_changelogs_tombstones_erase_and_a_broken_one_is_dead_lettered_alone(
    wired: tuple[Dispatcher[Any], Any, list[DeadLetter]],
) -> None:
    dispatcher, broker, letters = wired
    erased, kept = uuid4(), uuid4()
    tombstone = SubscriberErased(subscriber_id=erased, version=2, occurred_at=datetime.now(UTC))
    changed = f'{{"type": "subscriber.changed", "subscriber_id": "{kept}", "version": 1}}'
    await broker.publish_batch(
        tombstone.model_dump_json(),
        changed,  # a subscriber's state is not the dispatcher's business: not even read
        b'{"type": "subscriber.erased", "subscriber_id": "not an id"}',
        topic=SUBSCRIBERS,
    )
    async with dispatcher.sessions() as session:
        ids = set(await session.scalars(select(ErasedSubscriber.subscriber_id)))
    assert ids == {str(erased)}
    (letter,) = letters
    assert (letter.service, letter.source_topic) == ("dispatch-sms", SUBSCRIBERS)

"""The composer's Kafka subscribers as bootstrap wires them, driven through FastStream's TestKafkaBroker:
the right topic reaches the right use case, in batches, and a bad record is dead-lettered alone."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from sqlalchemy import select

from hlasatel_composer.adapters.orm import Base, DeliveryRow, IndexedPoint, IndexedSubscriber
from hlasatel_composer.config import Settings
from hlasatel_composer.container import Composer, build_composer
from hlasatel_composer.entrypoints import consumer
from hlasatel_contracts import (
    ADDRESS_POINTS,
    DEAD_LETTER,
    DELIVERY_STATUS,
    SUBSCRIBERS,
    AddressPoint,
    AddressPointChanged,
    Channel,
    DeadLetter,
    DeliveryState,
    DeliveryStatusChanged,
)
from hlasatel_devstack.stack import ON_LOOPBACK

from ..conftest import SECRET, subscriber


@pytest.fixture
async def wired(database_url: str) -> AsyncIterator[tuple[Composer, list[DeadLetter]]]:
    settings = Settings(database_url=database_url, secret_key=SECRET, allow_insecure=ON_LOOPBACK)
    composer = build_composer(settings)
    async with composer.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    composer.broker.include_router(consumer.router(settings))
    composer.broker.context.set_global("composer", composer)
    letters: list[DeadLetter] = []

    @composer.broker.subscriber(DEAD_LETTER)
    async def dead(letter: DeadLetter) -> None:
        letters.append(letter)

    async with TestKafkaBroker(composer.broker):
        yield composer, letters
    composer.renderer.close()
    await composer.engine.dispose()


async def test_the_changelog_reaches_the_targeting_index_and_a_bad_record_is_dead_lettered_alone(
    wired: tuple[Composer, list[DeadLetter]], liberec: list[AddressPoint]
) -> None:
    composer, letters = wired
    first, second = subscriber(liberec[0]), subscriber(liberec[1])
    await composer.broker.publish_batch(
        first.model_dump_json(), b'{"not": "an event"}', second.model_dump_json(), topic=SUBSCRIBERS
    )
    async with composer.sessions() as session:
        indexed = set(await session.scalars(select(IndexedSubscriber.subscriber_id)))
    assert indexed == {first.subscriber_id, second.subscriber_id}
    (letter,) = letters
    assert (letter.service, letter.source_topic) == ("composer", SUBSCRIBERS)


async def test_statuses_reach_the_delivery_rows_a_batch_at_a_time(
    wired: tuple[Composer, list[DeadLetter]],
) -> None:
    composer, letters = wired
    message_id, now = uuid4(), datetime.now(UTC)
    rows = [
        DeliveryRow(
            delivery_id=uuid4(),
            message_id=message_id,
            subscriber_id=uuid4(),
            contact_id=uuid4(),
            channel=Channel.SMS.value,
            state=DeliveryState.QUEUED.value,
            rank=0,
            updated_at=now,
        )
        for _ in range(3)
    ]
    async with composer.sessions() as session, session.begin():
        session.add_all(rows)

    def status(row: DeliveryRow, state: DeliveryState) -> bytes:
        return (
            DeliveryStatusChanged(
                delivery_id=row.delivery_id,
                message_id=message_id,
                subscriber_id=row.subscriber_id,
                contact_id=row.contact_id,
                channel=Channel.SMS,
                state=state,
                occurred_at=now,
            )
            .model_dump_json()
            .encode()
        )

    # one batch: the second delivery's report arrives before its acceptance, as it can across partitions
    await composer.broker.publish_batch(
        status(rows[0], DeliveryState.ACCEPTED),
        status(rows[1], DeliveryState.DELIVERED),
        status(rows[1], DeliveryState.ACCEPTED),
        b"\xff not json",
        topic=DELIVERY_STATUS,
    )
    async with composer.sessions() as session:
        states = dict((await session.execute(select(DeliveryRow.delivery_id, DeliveryRow.state))).all())
    assert [states[row.delivery_id] for row in rows] == ["accepted", "delivered", "queued"]
    (letter,) = letters
    assert letter.source_topic == DELIVERY_STATUS


async def test_the_register_reaches_the_composers_city_and_a_bad_record_is_dead_lettered_alone(
    wired: tuple[Composer, list[DeadLetter]], liberec: list[AddressPoint]
) -> None:
    composer, letters = wired
    now = datetime.now(UTC)

    def record(point: AddressPoint, version: int, *, retired: bool = False) -> str:
        return AddressPointChanged(
            version=version,
            occurred_at=now,
            municipality_code=563889,
            municipality="Liberec",
            address=point,
            retired_at=now if retired else None,
        ).model_dump_json()

    await composer.broker.publish_batch(
        record(liberec[0], 1),
        b'{"type": "address_point.changed", "version": 0}',
        record(liberec[1], 2, retired=True),
        record(liberec[1], 1),
        topic=ADDRESS_POINTS,
    )
    async with composer.sessions() as session:
        stored = dict((await session.execute(select(IndexedPoint.code, IndexedPoint.retired))).all())
    assert stored == {liberec[0].code: False, liberec[1].code: True}
    (letter,) = letters
    assert letter.source_topic == ADDRESS_POINTS

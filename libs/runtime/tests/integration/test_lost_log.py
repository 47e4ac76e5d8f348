"""A group whose committed offset lies past its partition's end, as when the broker lost its log while a
consumer still committed the offset it had, and one whose offset is simply where it stopped: against the
real embedded broker."""

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from hlasatel_devstack.testing import quick_kafka
from hlasatel_runtime.kafka import build_broker, consumer_options


async def _commit(bootstrap: str, group: str, topic: str, offset: int) -> None:
    """The offset a consumer of the group had reached, committed before the group's consumer starts."""
    earlier = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await earlier.start()
    try:
        earlier.assign([TopicPartition(topic, 0)])
        await earlier.commit({TopicPartition(topic, 0): offset})
    finally:
        await earlier.stop()


async def _read(bootstrap: str, topic: str, group: str, *, then_publish: int, wait_for: int) -> list[int]:
    """Start the group's consumer the way every service does, publish one record more, and return the
    houses it read once it has `wait_for` of them."""
    settings = quick_kafka(bootstrap)
    broker = build_broker(settings, client_id="test")
    houses: list[int] = []

    @broker.subscriber(topic, **consumer_options(settings, group_id=group))
    async def on_house(house: int) -> None:
        houses.append(house)

    async with broker:
        await broker.start()
        await broker.publish(then_publish, topic, key=b"k", partition=0)
        async with asyncio.timeout(30):
            while len(houses) < wait_for:
                await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # time for anything read twice to show
    return houses


def _names() -> tuple[str, str]:
    return f"test.lost.{uuid.uuid4().hex[:8]}", f"test-lost-{uuid.uuid4().hex[:8]}"


async def test_a_committed_offset_past_the_end_is_read_from_the_start(kafka_bootstrap: str) -> None:
    topic, group = _names()
    publisher = build_broker(quick_kafka(kafka_bootstrap), client_id="test-publisher")
    async with publisher:
        for house in (1, 2, 3):
            await publisher.publish(house, topic, key=b"k", partition=0)
    await _commit(kafka_bootstrap, group, topic, 100)  # the offset reached on the log the broker lost

    assert await _read(kafka_bootstrap, topic, group, then_publish=4, wait_for=4) == [1, 2, 3, 4]


async def test_a_group_takes_up_where_it_stopped_after_a_batch_of_many_records(kafka_bootstrap: str) -> None:
    """Tansu's ListOffsets puts the end of this partition at 1 (its one batch's first offset plus one);
    a restarted service must not take its committed 100 for a lost log and read all 100 again."""
    topic, group = _names()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=50)
    await producer.start()
    try:
        sent = [await producer.send(topic, str(house).encode(), partition=0) for house in range(100)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    await _commit(kafka_bootstrap, group, topic, 100)

    assert await _read(kafka_bootstrap, topic, group, then_publish=100, wait_for=1) == [100]

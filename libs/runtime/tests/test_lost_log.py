"""A group whose committed offset lies past its partition's end, as when the broker lost its log while a
consumer still committed the offset it had: against the real embedded broker."""

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition

from hlasatel_devstack.testing import quick_kafka
from hlasatel_runtime.kafka import build_broker, consumer_options


async def test_a_committed_offset_past_the_end_is_read_from_the_start(kafka_bootstrap: str) -> None:
    settings = quick_kafka(kafka_bootstrap)
    topic, group = f"test.lost.{uuid.uuid4().hex[:8]}", f"test-lost-{uuid.uuid4().hex[:8]}"
    broker = build_broker(settings, client_id="test")
    houses: list[int] = []

    @broker.subscriber(topic, **consumer_options(settings, group_id=group))
    async def on_house(house: int) -> None:
        houses.append(house)

    publisher = build_broker(settings, client_id="test-publisher")
    async with publisher:
        for house in (1, 2, 3):
            await publisher.publish(house, topic, key=b"k", partition=0)
    # the offset a consumer had reached on the log the broker lost
    stale = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await stale.start()
    try:
        stale.assign([TopicPartition(topic, 0)])
        await stale.commit({TopicPartition(topic, 0): 100})
    finally:
        await stale.stop()

    async with broker:
        await broker.start()
        async with asyncio.timeout(30):
            while len(houses) < 3:
                await asyncio.sleep(0.1)
    assert houses == [1, 2, 3]

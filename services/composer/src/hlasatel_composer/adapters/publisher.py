"""Delivery requests onto the bus with aiokafka's batch API: one batch per partition, keyed by subscriber."""

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from hlasatel_contracts import DeliveryRequest, delivery_topic


class BatchPublisher:
    """Publishes a list of requests and returns once the broker has them all.

    Records land on the partition FastStream's keyed publish would choose (the Java client's murmur2),
    so one subscriber's deliveries stay in order on one partition.
    """

    def __init__(self, producer: Callable[[], AIOKafkaProducer]) -> None:
        # aiokafka clients belong to the running event loop, so the producer is made on first use
        self._make_producer = producer
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._lock = asyncio.Lock()

    async def _ready(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = self._make_producer()
                await producer.start()
                self._producer = producer
        return self._producer

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _partitions_of(self, producer: AIOKafkaProducer, topic: str) -> list[int]:
        if topic not in self._partitions:
            self._partitions[topic] = sorted(await producer.partitions_for(topic))
        return self._partitions[topic]

    async def __call__(self, requests: Sequence[DeliveryRequest]) -> None:
        producer = await self._ready()
        by_topic: dict[str, list[DeliveryRequest]] = defaultdict(list)
        for request in requests:
            by_topic[delivery_topic(request.channel, request.lane)].append(request)
        sent: list[asyncio.Future[Any]] = []
        for topic, items in by_topic.items():
            partitions = await self._partitions_of(producer, topic)
            batches: dict[int, Any] = {}
            for request in items:
                key = str(request.subscriber_id).encode()
                partition = self._partitioner(key, partitions, partitions)
                record = {
                    "key": key,
                    "value": request.model_dump_json().encode(),
                    "timestamp": None,
                    "headers": [
                        ("content-type", b"application/json"),
                        ("correlation_id", str(request.delivery_id).encode()),
                    ],
                }
                batch = batches.setdefault(partition, producer.create_batch())
                if batch.append(**record) is None:
                    sent.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = batches[partition] = producer.create_batch()
                    batch.append(**record)
            for partition, batch in batches.items():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)

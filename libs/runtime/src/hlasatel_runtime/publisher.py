"""Records onto the bus with aiokafka's batch API: one batch per partition and call, keyed as FastStream's
one-record publish would key them, for the hot paths where publishing a record at a time is too slow (the
composer's delivery requests, the dispatchers' statuses)."""

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    correlation_id: str | None = None


class BatchPublisher:
    """Publishes a list of records and returns once the broker has them all.

    Records land on the partition FastStream's keyed publish would choose (the Java client's murmur2),
    so the records of one key stay in order on one partition.
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

    async def publish(self, records: Sequence[Record]) -> None:
        if not records:
            return
        producer = await self._ready()
        by_topic: dict[str, list[Record]] = defaultdict(list)
        for record in records:
            by_topic[record.topic].append(record)
        sent: list[asyncio.Future[Any]] = []
        for topic, items in by_topic.items():
            partitions = await self._partitions_of(producer, topic)
            batches: dict[int, Any] = {}
            for record in items:
                partition = self._partitioner(record.key, partitions, partitions)
                headers = [("content-type", b"application/json")]
                if record.correlation_id:
                    headers.append(("correlation_id", record.correlation_id.encode()))
                fields = {"key": record.key, "value": record.value, "timestamp": None, "headers": headers}
                batch = batches.setdefault(partition, producer.create_batch())
                if batch.append(**fields) is None:
                    sent.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = batches[partition] = producer.create_batch()
                    batch.append(**fields)
            for partition, batch in batches.items():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)

"""Writing records onto the embedded broker and reading whole topics back, for tests and benchmarks."""

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel


async def publish_keyed(bootstrap: str, topic: str, records: Iterable[tuple[bytes, BaseModel]]) -> int:
    """Publish models as JSON with their keys, on the partition the key chooses; returns how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending = [
            await producer.send(topic, key=key, value=model.model_dump_json().encode())
            for key, model in records
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(pending)


def reader(bootstrap: str, *topics: str) -> AIOKafkaConsumer:
    """A consumer of these topics from the very beginning, in a group of its own, that joins in well under
    a second; not started."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"read-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        enable_auto_commit=False,
    )


async def read_until(
    bootstrap: str,
    topics: Sequence[str],
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    *,
    timeout_s: float = 60.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of these topics from the beginning, read until `done` says so of all read so far."""
    consumer = reader(bootstrap, *topics)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout_s):
            while not done(records):
                for batch in (await consumer.getmany(timeout_ms=300, max_records=10_000)).values():
                    records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def read_topics(
    bootstrap: str, topics: Sequence[str], *, at_least: int = 1, quiet_s: float = 3.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of these topics from the very beginning, in a group of its own.

    The embedded broker's end offsets cannot be trusted, so the end is where records stop coming: once at
    least `at_least` have been read and none came for `quiet_s` seconds.
    """
    consumer = reader(bootstrap, *topics)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    quiet_since = time.monotonic()
    try:
        while time.monotonic() - quiet_since < quiet_s or len(records) < at_least:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for batch in batches.values():
                records.extend(batch)
                quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return records

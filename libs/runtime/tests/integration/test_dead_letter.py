"""A consumer never dies on one bad record: against the real embedded broker."""

import asyncio
import base64
import uuid
from typing import Any

from pydantic import BaseModel

from hlasatel_contracts import DEAD_LETTER, DeadLetter
from hlasatel_devstack.bus import read_until
from hlasatel_devstack.testing import quick_kafka
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker, consumer_options


class Reading(BaseModel):
    house: int


async def _dead_letters(bootstrap: str, topic: str, count: int) -> list[DeadLetter]:
    def of_topic(records: list[Any]) -> list[DeadLetter]:
        letters = (DeadLetter.model_validate_json(record.value) for record in records)
        return [letter for letter in letters if letter.source_topic == topic]

    return of_topic(await read_until(bootstrap, [DEAD_LETTER], lambda found: len(of_topic(found)) >= count))


async def test_bad_records_are_dead_lettered_with_the_reason_and_the_consumer_goes_on(
    kafka_bootstrap: str,
) -> None:
    settings = quick_kafka(kafka_bootstrap)
    topic = f"test.readings.{uuid.uuid4().hex[:8]}"
    broker = build_broker(settings, client_id="test", middlewares=[dead_letter_middleware("test-service")])
    processed: list[int] = []

    @broker.subscriber(topic, **consumer_options(settings, group_id="test-readings"))
    async def on_reading(reading: Reading) -> None:
        processed.append(reading.house)

    async with broker:
        await broker.start()
        await broker.publish({"house": 1}, topic, key=b"k", partition=0)
        await broker.publish(b"not json at all", topic, key=b"k", partition=0)
        await broker.publish({"house": "jana@example.cz"}, topic, key=b"k", partition=0)
        await broker.publish({"house": 2}, topic, key=b"k", partition=0)
        async with asyncio.timeout(30):
            while processed != [1, 2]:
                await asyncio.sleep(0.1)
        letters = await _dead_letters(kafka_bootstrap, topic, 2)

    assert [(letter.offset, letter.service, letter.key) for letter in letters] == [
        (1, "test-service", "k"),
        (2, "test-service", "k"),
    ]
    assert base64.b64decode(letters[0].value) == b"not json at all"
    assert letters[1].reason.startswith("invalid record: reading.house: Input should be a valid integer")
    assert "jana" not in letters[1].reason


async def test_a_transient_failure_is_retried_and_the_record_is_processed_once(kafka_bootstrap: str) -> None:
    from sqlalchemy.exc import OperationalError

    settings = quick_kafka(kafka_bootstrap)
    topic = f"test.transient.{uuid.uuid4().hex[:8]}"
    broker = build_broker(
        settings, client_id="test", middlewares=[dead_letter_middleware("test-service", base_delay_s=0.05)]
    )
    calls: list[int] = []
    done: list[int] = []

    @broker.subscriber(topic, **consumer_options(settings, group_id="test-transient"))
    async def on_reading(reading: Reading) -> None:
        calls.append(reading.house)
        if len(calls) <= 2:
            raise OperationalError("SELECT 1", {}, ConnectionError("database restarting"))
        done.append(reading.house)

    async with broker:
        await broker.start()
        await broker.publish({"house": 7}, topic, key=b"k", partition=0)
        await broker.publish({"house": 8}, topic, key=b"k", partition=0)
        async with asyncio.timeout(30):
            while done != [7, 8]:
                await asyncio.sleep(0.05)
    assert calls == [7, 7, 7, 8]

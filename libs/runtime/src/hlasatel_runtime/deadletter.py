"""A consumer never dies on one bad record: it goes to the dead-letter topic with the reason."""

import base64
import logging
from datetime import UTC, datetime
from typing import Any

from faststream import Context, ExceptionMiddleware
from faststream.kafka import KafkaBroker

from hlasatel_contracts import DEAD_LETTER, DeadLetter
from hlasatel_runtime.errors import describe

log = logging.getLogger(__name__)


def dead_letter_record(*, service: str, record: Any, reason: str) -> DeadLetter:
    """Wrap an aiokafka ConsumerRecord that could not be processed."""
    key = record.key.decode("utf-8", "replace") if isinstance(record.key, bytes) else record.key
    value = record.value if isinstance(record.value, bytes) else b""
    return DeadLetter(
        service=service,
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=key,
        value=base64.b64encode(value).decode("ascii"),
        reason=reason,
        failed_at=datetime.now(UTC),
    )


async def publish_dead_letter(broker: KafkaBroker, letter: DeadLetter) -> None:
    await broker.publish(letter, DEAD_LETTER, key=letter.key.encode() if letter.key else None)


def dead_letter_middleware(service: str) -> ExceptionMiddleware:
    """Send every record whose handler raised to the dead-letter topic, then carry on."""
    middleware = ExceptionMiddleware()

    @middleware.add_handler(Exception)
    async def _to_dead_letter(
        exc: Exception, message: Any = Context("message"), broker: Any = Context("broker")
    ) -> None:
        reason = describe(exc)
        records = message.raw_message if isinstance(message.raw_message, tuple) else (message.raw_message,)
        for record in records:
            log.warning("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
            await publish_dead_letter(
                broker, dead_letter_record(service=service, record=record, reason=reason)
            )

    return middleware

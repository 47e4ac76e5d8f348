"""A consumer never dies on one bad record: it goes to the dead-letter topic with the reason."""

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from faststream import Context, ExceptionMiddleware
from faststream.kafka import KafkaBroker
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from hlasatel_contracts import DEAD_LETTER, DeadLetter
from hlasatel_runtime.errors import describe

log = logging.getLogger(__name__)

T = TypeVar("T")


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


# A database or broker that is away for a moment: the record is tried again, not dead-lettered.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    SQLAlchemyTimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
    KafkaError,
)


class RetryBudget:
    """How often each record has failed transiently; forgotten once it is done with."""

    def __init__(self, *, attempts: int, base_delay_s: float, max_delay_s: float = 30.0) -> None:
        self.attempts, self.base_delay_s, self.max_delay_s = attempts, base_delay_s, max_delay_s
        self._failures: dict[tuple[str, int, int], int] = {}

    def retry_after(self, record: Any, exc: BaseException) -> float | None:
        """Seconds to wait before the record comes again, or None when it goes to the dead-letter topic."""
        key = (record.topic, record.partition, record.offset)
        failures = self._failures.get(key, 0) + 1
        if not isinstance(exc, TRANSIENT_ERRORS) or failures > self.attempts:
            self._failures.pop(key, None)
            return None
        if len(self._failures) > 10_000:
            self._failures.clear()
        self._failures[key] = failures
        delay: float = min(self.max_delay_s, self.base_delay_s * 2 ** (failures - 1))
        return delay


def dead_letter_middleware(
    service: str, *, transient_attempts: int = 8, base_delay_s: float = 0.5
) -> ExceptionMiddleware:
    """A record whose handler failed for good goes to the dead-letter topic; a transient failure is retried.

    Retrying raises again, so the consumer seeks back to the record (NACK_ON_ERROR) after a backoff: a
    database restart delays an erasure, it never drops it.
    """
    middleware = ExceptionMiddleware()
    budget = RetryBudget(attempts=transient_attempts, base_delay_s=base_delay_s)

    @middleware.add_handler(Exception)
    async def _to_dead_letter(
        exc: Exception, message: Any = Context("message"), broker: Any = Context("broker")
    ) -> None:
        records = message.raw_message if isinstance(message.raw_message, tuple) else (message.raw_message,)
        delay = budget.retry_after(records[0], exc)
        if delay is not None:
            log.warning(
                "%s[%s]@%s failed (%s); trying again in %.1f s",
                records[0].topic,
                records[0].partition,
                records[0].offset,
                describe(exc),
                delay,
            )
            await asyncio.sleep(delay)
            raise exc
        reason = describe(exc)
        for record in records:
            log.warning("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
            await publish_dead_letter(
                broker, dead_letter_record(service=service, record=record, reason=reason)
            )

    return middleware


async def undecoded_batch(message: Any) -> Any:
    """A batch subscriber's decoder that leaves the records' values as they came, so that each record is
    validated on its own (`valid_records`) and one bad record is dead-lettered alone instead of taking its
    batch with it."""
    return [record.value for record in message.raw_message]


async def valid_records(
    broker: KafkaBroker, *, service: str, records: Sequence[Any], adapter: TypeAdapter[T]
) -> list[T]:
    """The records of a batch that validate; each one that does not goes to the dead-letter topic."""
    return [
        value for _, value in await valid_pairs(broker, service=service, records=records, adapter=adapter)
    ]


async def valid_pairs(
    broker: KafkaBroker, *, service: str, records: Sequence[Any], adapter: TypeAdapter[T]
) -> list[tuple[Any, T]]:
    """Each record that validates, with what it says; each one that does not goes to the dead-letter
    topic."""
    valid: list[tuple[Any, T]] = []
    for record in records:
        try:
            valid.append((record, adapter.validate_json(record.value)))
        except ValidationError as exc:
            await publish_dead_letter(
                broker, dead_letter_record(service=service, record=record, reason=describe(exc))
            )
    return valid


async def apply_isolated(
    broker: KafkaBroker,
    *,
    service: str,
    items: Sequence[tuple[Any, T]],
    apply: Callable[[Sequence[T]], Awaitable[object]],
) -> None:
    """Apply a batch in one go; if that fails for any reason but a passing outage (which is raised, for the
    batch to come again), apply it record by record, so that only a record that fails on its own goes to
    the dead-letter topic and the rest of its batch is kept."""
    if not items:
        return
    try:
        await apply([value for _, value in items])
        return
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        log.warning("a batch of %d records failed (%s): one by one", len(items), describe(exc))
    for record, value in items:
        try:
            await apply([value])
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            reason = describe(exc)
            log.warning("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
            await publish_dead_letter(
                broker, dead_letter_record(service=service, record=record, reason=reason)
            )

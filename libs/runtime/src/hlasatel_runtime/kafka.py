"""The broker every service uses, built from settings; topic creation for the embedded broker."""

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from hlasatel_contracts import TopicSpec
from hlasatel_runtime.settings import KafkaSettings

log = logging.getLogger(__name__)


def _security(settings: KafkaSettings) -> Any:
    context = settings.ssl_context()
    if not settings.security_protocol.startswith("SASL"):
        return None if context is None else BaseSecurity(ssl_context=context)
    assert settings.sasl_username is not None and settings.sasl_password is not None
    cls = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}[
        settings.sasl_mechanism
    ]
    return cls(
        username=settings.sasl_username,
        password=settings.sasl_password.get_secret_value(),
        ssl_context=context,
    )


class RewindPastTheEnd(ConsumerRebalanceListener):  # type: ignore[misc]
    """On each assignment, a committed offset past a partition's end goes back to the beginning.

    Kafka answers a fetch past a partition's end with OFFSET_OUT_OF_RANGE and the consumer starts again
    where `auto_offset_reset` says; Tansu answers with nothing, and takes a commit of any offset. A broker
    that lost its log (the embedded broker restarted) then got the old offset committed by a consumer that
    had not noticed yet, and the group would wait at it after rejoining, skipping every record published
    before the log grew that long again. The handlers are idempotent, so reading from the beginning is safe.
    """

    def __init__(self, client: dict[str, Any]) -> None:
        self.client = client  # how to connect: the ends are read with a consumer of the listener's own
        self.consumer: AIOKafkaConsumer | None = None
        self.assigned: set[TopicPartition] = set()

    async def bind(self, consumer: AIOKafkaConsumer) -> None:
        """The subscriber's consumer, once started (FastStream hands a listener none); the partitions it
        was given while starting are checked now."""
        self.consumer = consumer
        await self.rewind(self.assigned)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned = set(assigned)
        await self.rewind(self.assigned)

    async def rewind(self, partitions: set[TopicPartition]) -> None:
        if self.consumer is None or not partitions:
            return
        committed = {partition: await self.consumer.committed(partition) for partition in partitions}
        # Tansu's ListOffsets answers with the first offset of a partition's last batch plus one, short of
        # the end whenever that batch held more than one record: a lower bound, so an offset at or below it
        # is not past the end, and only those above it need the fetch that gives the true end
        low = await self.consumer.end_offsets(list(partitions))
        doubtful = {p: low[p] for p, offset in committed.items() if offset is not None and offset > low[p]}
        ends = await high_watermarks(self.client, doubtful)
        for partition, end in ends.items():
            offset = committed[partition]
            if offset is not None and offset > end:
                log.warning(
                    "%s[%d]: committed offset %d is past the end %d (the broker lost its log): from 0",
                    partition.topic,
                    partition.partition,
                    offset,
                    end,
                )
                self.consumer.seek(partition, 0)


async def high_watermarks(
    client: dict[str, Any], below: dict[TopicPartition, int], timeout_s: float = 10.0
) -> dict[TopicPartition, int]:
    """The partitions' ends as a fetch answers them (the high watermark), which Tansu gets right; `below`
    holds an offset at or below each end to fetch from. A partition whose end does not come within
    `timeout_s` keeps the offset given."""
    if not below:
        return {}
    probe = AIOKafkaConsumer(**client, enable_auto_commit=False)
    await probe.start()
    try:
        probe.assign(list(below))
        for partition, offset in below.items():
            probe.seek(partition, max(offset - 1, 0))  # inside the last batch: a small fetch
        ends: dict[TopicPartition, int] = {}
        async with asyncio.timeout(timeout_s):
            while len(ends) < len(below):
                await probe.getmany(timeout_ms=100, max_records=1)
                ends = {p: end for p in below if (end := probe.highwater(p)) is not None}
    except TimeoutError:
        log.warning("no high watermark within %.0f s; taking ListOffsets' answer", timeout_s)
    finally:
        await probe.stop()
    return below | ends


class _Broker(KafkaBroker):
    async def start(self) -> None:
        """Connect, then start every subscriber at once: a consumer's first join of its group takes about a
        second, and FastStream starts them one after another (a dispatcher's four groups: 4 s → 1 s)."""
        await self.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.subscribers))
        for subscriber in self.subscribers:
            listener = getattr(subscriber, "_listener", None)
            if isinstance(listener, RewindPastTheEnd):
                await listener.bind(getattr(subscriber, "consumer"))  # noqa: B009 (not in its type)
        for publisher in self.publishers:
            await publisher.start()
        self.running = True


def build_broker(settings: KafkaSettings, *, client_id: str, middlewares: Sequence[Any] = ()) -> KafkaBroker:
    """A FastStream Kafka broker for one service; per-record logs go to DEBUG."""
    return _Broker(
        settings.bootstrap_servers,
        client_id=client_id,
        security=_security(settings),
        middlewares=middlewares,
        graceful_timeout=settings.graceful_timeout_s,
        logger=logging.getLogger(f"hlasatel.broker.{client_id}"),
        log_level=logging.DEBUG,
        acks="all",
    )


def consumer_options(settings: KafkaSettings, *, group_id: str) -> dict[str, Any]:
    """Subscriber options every consumer group of the project uses."""
    return {
        "group_id": group_id,
        # Tansu's end_offsets is wrong, so a new group starts at the beginning; handlers are idempotent.
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.session_timeout_ms,
        "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        # The offset is committed once the handler is done (a bad record is dead-lettered by then); if even
        # dead-lettering fails, the record is sought back and comes again rather than being lost.
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "listener": RewindPastTheEnd(client_options(settings)),
    }


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    """Connection options for a plain aiokafka client, matching the FastStream broker's."""
    return {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
        "sasl_mechanism": settings.sasl_mechanism,
        "sasl_plain_username": settings.sasl_username,
        "sasl_plain_password": settings.sasl_password.get_secret_value() if settings.sasl_password else None,
        "ssl_context": settings.ssl_context(),
    }


def build_producer(settings: KafkaSettings, *, client_id: str) -> AIOKafkaProducer:
    """An aiokafka producer for batch publishing, where FastStream's one-record publish is too slow."""
    return AIOKafkaProducer(
        **client_options(settings),
        client_id=client_id,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
        max_request_size=1024 * 1024,
    )


async def ensure_topics(settings: KafkaSettings, topics: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet, with their partition counts; returns those created."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t.name not in existing]
        if not wanted:
            return []
        new = [
            NewTopic(
                t.name,
                num_partitions=t.partitions,
                replication_factor=1,
                topic_configs=t.configs(),
            )
            for t in wanted
        ]
        try:
            await admin.create_topics(new)
        except TopicAlreadyExistsError:
            log.info("topics created concurrently by another process")
        return [t.name for t in wanted]
    finally:
        await admin.close()

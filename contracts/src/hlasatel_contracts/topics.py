"""Every topic and lane of the bus, in one place."""

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    PUSH = "push"


class Lane(StrEnum):
    """Kafka has no priorities, so urgency is a topic of its own."""

    EMERGENCY = "emergency"
    TRANSACTIONAL = "transactional"
    BULK = "bulk"


LANES_BY_PRIORITY: tuple[Lane, ...] = (Lane.EMERGENCY, Lane.TRANSACTIONAL, Lane.BULK)

SUBSCRIBERS = "registry.subscribers.v1"
ADDRESS_POINTS = "registry.address-points.v1"
DELIVERY_STATUS = "delivery.status.v1"
MESSAGE_CANCELLATIONS = "composer.cancellations.v1"
DEAD_LETTER = "hlasatel.dead-letter.v1"


def delivery_topic(channel: Channel, lane: Lane) -> str:
    """The topic carrying delivery requests of one channel on one lane."""
    return f"deliveries.{channel.value}.{lane.value}.v1"


DAY_MS = 24 * 3600 * 1000
# deliveries and their statuses carry contacts and ids: kept a week, as the composer's delivery rows
WEEK_MS = 7 * DAY_MS


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool
    description: str
    retention_ms: int | None = None
    # further topic settings, as Kafka names them
    extra: tuple[tuple[str, str], ...] = ()

    def configs(self) -> dict[str, str]:
        """The topic's settings as a broker takes them at creation."""
        configs = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs | dict(self.extra)


def _delivery_specs() -> list[TopicSpec]:
    return [
        TopicSpec(
            delivery_topic(channel, lane),
            partitions=4,
            compacted=False,
            description=f"{channel.value} delivery requests on the {lane.value} lane, keyed by subscriber id",
            retention_ms=WEEK_MS,
        )
        for channel in Channel
        for lane in LANES_BY_PRIORITY
    ]


ALL_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        SUBSCRIBERS,
        partitions=4,
        compacted=True,
        description="Subscriber changelog: full current state or an erasure, keyed by subscriber id",
        # a new segment every 6 hours and compaction at least daily: an erasure's tombstone replaces the
        # subscriber's older states within a day; the tombstone itself stays a day for late consumers
        extra=(
            ("segment.ms", str(6 * 3600 * 1000)),
            ("max.compaction.lag.ms", str(DAY_MS)),
            ("delete.retention.ms", str(DAY_MS)),
        ),
    ),
    TopicSpec(
        ADDRESS_POINTS,
        partitions=4,
        compacted=True,
        description="The city's address register (RÚIAN): every address point's full state, retired ones "
        "included, keyed by address point code; an import announces what changed",
        # no personal data: compaction only keeps the topic the size of the register
        extra=(("segment.ms", str(DAY_MS)),),
    ),
    *_delivery_specs(),
    TopicSpec(
        DELIVERY_STATUS,
        partitions=4,
        compacted=False,
        description="Outcome of every delivery attempt, keyed by delivery id",
        retention_ms=WEEK_MS,
    ),
    TopicSpec(
        MESSAGE_CANCELLATIONS,
        partitions=1,
        compacted=True,
        description="Messages the press office cancelled, keyed by message id; dispatchers stop what they "
        "have not yet handed to a provider",
    ),
    TopicSpec(
        DEAD_LETTER,
        partitions=1,
        compacted=False,
        description="Records a consumer could not process, with the reason; kept 7 days (they hold contacts)",
        retention_ms=WEEK_MS,
    ),
)

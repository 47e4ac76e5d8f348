"""The composer's parts, built from its settings and handed to its routes, consumers and workers by name."""

from dataclasses import dataclass, field

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import OutboxRow
from hlasatel_composer.adapters.publisher import DeliveryPublisher
from hlasatel_composer.adapters.renderer import TemplateRenderer
from hlasatel_composer.adapters.uow import UnitOfWork
from hlasatel_composer.config import Settings
from hlasatel_composer.domain.ratelimit import RateLimiter
from hlasatel_composer.handlers.alert_chain import AlertDeps
from hlasatel_composer.handlers.fanout import FanOut
from hlasatel_composer.handlers.redrive import Redrive
from hlasatel_composer.handlers.retention import Retention
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker, build_producer
from hlasatel_runtime.outbox import OutboxRelay, raw_publisher


@dataclass
class Composer:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    publisher: DeliveryPublisher
    relay: OutboxRelay
    fan_out: FanOut
    redrive: Redrive
    retention: Retention
    renderer: TemplateRenderer
    limiter: RateLimiter = field(default_factory=RateLimiter)

    def uow(self) -> UnitOfWork:
        """A unit of work that wakes the fan-out after an approval and the relay after an event."""
        return UnitOfWork(self.sessions, wake_fan_out=self.fan_out.wake, wake_relay=self.relay.wake)

    def alert_deps(self) -> AlertDeps:
        return AlertDeps(
            uow=self.uow, renderer=self.renderer, four_eyes_threshold=self.settings.four_eyes_threshold
        )


def build_composer(settings: Settings) -> Composer:
    """Every part of the composer; nothing connects until the app starts."""
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    broker = build_broker(
        settings.kafka, client_id="composer", middlewares=[dead_letter_middleware("composer")]
    )
    publisher = DeliveryPublisher(lambda: build_producer(settings.kafka, client_id="composer.fan-out"))
    return Composer(
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        publisher=publisher,
        relay=OutboxRelay(sessions=sessions, model=OutboxRow, publish=raw_publisher(broker)),
        fan_out=FanOut(
            sessions=sessions,
            publish=publisher,
            batch_size=settings.fanout_batch_size,
            idle_poll_s=settings.fanout_idle_poll_s,
            unsubscribe_base_url=settings.unsubscribe_base_url,
            contact_secret=settings.keys(),
        ),
        redrive=Redrive(
            sessions=sessions,
            publish=publisher,
            contact_secret=settings.keys(),
            unsubscribe_base_url=settings.unsubscribe_base_url,
            after_s=settings.redrive_after_s,
            max_redrives=settings.redrive_max,
            poll_s=settings.redrive_poll_s,
        ),
        retention=Retention(
            sessions=sessions, keep_days=settings.delivery_retention_days, poll_s=settings.retention_poll_s
        ),
        renderer=TemplateRenderer(timeout_s=settings.template_timeout_s),
    )

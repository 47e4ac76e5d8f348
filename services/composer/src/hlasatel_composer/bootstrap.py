"""Builds the composer: engine, broker, targeting index consumer, status consumer, fan-out, HTTP app."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from faststream import Context
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.fanout import FanOut
from hlasatel_composer.adapters.index import apply_subscriber_events
from hlasatel_composer.adapters.orm import Base
from hlasatel_composer.adapters.publisher import BatchPublisher
from hlasatel_composer.adapters.redrive import Redrive
from hlasatel_composer.adapters.renderer import TemplateRenderer
from hlasatel_composer.adapters.retention import Retention
from hlasatel_composer.config import Settings
from hlasatel_composer.domain.ratelimit import RateLimiter
from hlasatel_composer.handlers import messages
from hlasatel_composer.handlers.alerts import AlertDeps
from hlasatel_composer.handlers.messages import PublishCancellation
from hlasatel_contracts import (
    DELIVERY_STATUS,
    MESSAGE_CANCELLATIONS,
    SUBSCRIBERS,
    DeliveryStatusChanged,
    MessageCancelled,
    SubscriberEvent,
)
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import apply_isolated, dead_letter_middleware, undecoded_batch, valid_pairs
from hlasatel_runtime.kafka import build_broker, build_producer, consumer_options
from hlasatel_runtime.service import Runtime, build_app

log = logging.getLogger(__name__)

_SUBSCRIBER_EVENT: TypeAdapter[SubscriberEvent] = TypeAdapter(SubscriberEvent)


@dataclass
class Composer:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    fan_out: FanOut
    publish_cancellation: PublishCancellation
    renderer: TemplateRenderer
    limiter: RateLimiter = field(default_factory=RateLimiter)

    def alert_deps(self) -> AlertDeps:
        return AlertDeps(
            sessions=self.sessions,
            wake_fan_out=self.fan_out.wake,
            publish_cancellation=self.publish_cancellation,
            renderer=self.renderer,
            four_eyes_threshold=self.settings.four_eyes_threshold,
        )


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build the composer from its settings; nothing is created at import time."""
    from hlasatel_composer.entrypoints.alerts_api import router as alerts_router
    from hlasatel_composer.entrypoints.api import router
    from hlasatel_composer.entrypoints.errors import install_error_handlers

    settings = settings or Settings()
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    broker = build_broker(
        settings.kafka, client_id="composer", middlewares=[dead_letter_middleware("composer")]
    )

    @broker.subscriber(
        SUBSCRIBERS,
        batch=True,
        max_records=settings.index_batch_size,
        decoder=undecoded_batch,
        **consumer_options(settings.kafka, group_id="composer.index"),
    )
    async def on_subscriber_events(values: list[bytes], message: Any = Context("message")) -> None:
        events = await valid_pairs(
            broker, service="composer", records=message.raw_message, adapter=_SUBSCRIBER_EVENT
        )

        async def apply(batch: Sequence[SubscriberEvent]) -> None:
            async with sessions() as session, session.begin():
                await apply_subscriber_events(session, batch)

        await apply_isolated(broker, service="composer", items=events, apply=apply)

    @broker.subscriber(DELIVERY_STATUS, **consumer_options(settings.kafka, group_id="composer.reports"))
    async def on_delivery_status(status: DeliveryStatusChanged) -> None:
        await messages.apply_status(sessions=sessions, status=status)

    cancellations = broker.publisher(MESSAGE_CANCELLATIONS, title="composer cancellations")

    async def publish_cancellation(event: MessageCancelled) -> None:
        await cancellations.publish(event, key=str(event.message_id).encode())

    publisher = BatchPublisher(lambda: build_producer(settings.kafka, client_id="composer.fan-out"))
    fan_out = FanOut(
        sessions=sessions,
        publish=publisher,
        batch_size=settings.fanout_batch_size,
        idle_poll_s=settings.fanout_idle_poll_s,
        unsubscribe_base_url=settings.unsubscribe_base_url,
        contact_secret=settings.keys(),
    )
    redrive = Redrive(
        sessions=sessions,
        publish=publisher,
        contact_secret=settings.keys(),
        unsubscribe_base_url=settings.unsubscribe_base_url,
        after_s=settings.redrive_after_s,
        max_redrives=settings.redrive_max,
        poll_s=settings.redrive_poll_s,
    )
    retention = Retention(
        sessions=sessions, keep_days=settings.delivery_retention_days, poll_s=settings.retention_poll_s
    )
    renderer = TemplateRenderer(timeout_s=settings.template_timeout_s)
    runtime = Runtime(
        name="composer",
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        metadata=Base.metadata,
        background=[fan_out.run, redrive.run, retention.run],
    )
    runtime.closers.append(publisher.close)

    async def close_renderer() -> None:
        renderer.close()

    runtime.closers.append(close_renderer)
    app = build_app(
        runtime,
        title="Hlasatel composer",
        description=(
            "The press office's and the utilities' API: messages, targets by district, street and house, "
            "preview, four-eyes approval, fan-out, updates and cancellation, live delivery reports. "
            "Every call needs an API key: 'Authorization: Bearer hls_…'."
        ),
        routers=[router, alerts_router],
        # a CAP document is read by its route, which refuses one past COMPOSER_CAP_MAX_BYTES in its own
        # words; this is only the ceiling beyond which nothing is read at all
        body_limits={"/v1/alerts/cap": 2 * max(settings.cap_max_bytes, settings.max_body_bytes)},
    )
    install_error_handlers(app)
    app.state.composer = Composer(
        settings=settings,
        sessions=sessions,
        fan_out=fan_out,
        publish_cancellation=publish_cancellation,
        renderer=renderer,
    )
    return app

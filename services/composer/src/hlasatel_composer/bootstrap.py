"""Builds the composer: engine, broker, targeting index consumer, status consumer, fan-out, HTTP app."""

from collections.abc import Awaitable
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer import handlers
from hlasatel_composer.adapters.fanout import FanOut
from hlasatel_composer.adapters.index import apply_subscriber_event
from hlasatel_composer.adapters.orm import Base
from hlasatel_composer.config import Settings
from hlasatel_contracts import (
    DELIVERY_STATUS,
    SUBSCRIBERS,
    DeliveryRequest,
    DeliveryStatusChanged,
    SubscriberEvent,
)
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker, consumer_options
from hlasatel_runtime.service import Runtime, build_app


@dataclass
class Composer:
    sessions: async_sessionmaker[AsyncSession]
    fan_out: FanOut


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build the composer from its settings; nothing is created at import time."""
    from hlasatel_composer.entrypoints.api import router

    settings = settings or Settings()
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    broker = build_broker(
        settings.kafka, client_id="composer", middlewares=[dead_letter_middleware("composer")]
    )

    @broker.subscriber(SUBSCRIBERS, **consumer_options(settings.kafka, group_id="composer.index"))
    async def on_subscriber_event(event: SubscriberEvent) -> None:
        async with sessions() as session, session.begin():
            await apply_subscriber_event(session, event)

    @broker.subscriber(DELIVERY_STATUS, **consumer_options(settings.kafka, group_id="composer.reports"))
    async def on_delivery_status(status: DeliveryStatusChanged) -> None:
        await handlers.apply_status(sessions=sessions, status=status)

    async def publish_request(topic: str, key: bytes, request: DeliveryRequest) -> Awaitable[object]:
        return await broker.publish(request, topic, key=key, no_confirm=True)

    fan_out = FanOut(
        sessions=sessions,
        publish=publish_request,
        batch_size=settings.fanout_batch_size,
        idle_poll_s=settings.fanout_idle_poll_s,
        unsubscribe_base_url=settings.unsubscribe_base_url,
        contact_secret=settings.secret_key.get_secret_value(),
    )
    runtime = Runtime(
        name="composer",
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        metadata=Base.metadata,
        background=[fan_out.run],
    )
    app = build_app(
        runtime,
        title="Hlasatel composer",
        description=(
            "The press office's and the utilities' API: messages, targets, approval, fan-out, reports."
        ),
        routers=[router],
    )
    app.state.composer = Composer(sessions=sessions, fan_out=fan_out)
    return app

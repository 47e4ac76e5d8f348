"""Builds the registry: engine, broker, outbox relay, HTTP app."""

from collections.abc import Awaitable
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.orm import Base
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.config import Settings
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker
from hlasatel_runtime.service import Runtime, build_app


@dataclass
class Registry:
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    search: AddressSearch


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build the registry from its settings; nothing is created at import time."""
    from hlasatel_registry.entrypoints.api import router

    settings = settings or Settings()
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    broker = build_broker(
        settings.kafka, client_id="registry", middlewares=[dead_letter_middleware("registry")]
    )

    async def publish_raw(topic: str, key: bytes, payload: bytes) -> Awaitable[object]:
        return await broker.publish(
            payload, topic, key=key, headers={"content-type": "application/json"}, no_confirm=True
        )

    relay = OutboxRelay(
        sessions=sessions,
        publish=publish_raw,
        batch_size=settings.outbox_batch_size,
        idle_poll_s=settings.outbox_idle_poll_s,
    )
    runtime = Runtime(
        name="registry",
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        metadata=Base.metadata,
        background=[relay.run],
    )
    app = build_app(
        runtime,
        title="Hlasatel registry",
        description=("Citizens, their verified contacts and RÚIAN address points; source of the changelog."),
        routers=[router],
    )
    app.state.registry = Registry(sessions=sessions, relay=relay, search=AddressSearch(sessions))
    return app

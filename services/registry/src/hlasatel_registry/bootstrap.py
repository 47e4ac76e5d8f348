"""Builds the registry: engine, broker, outbox relay, portal verifier, HTTP app."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import DELIVERY_STATUS, DeliveryStatusChanged
from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.limits import forget_old_attempts
from hlasatel_registry.adapters.orm import Base
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.adapters.portal import PortalVerifier
from hlasatel_registry.config import Settings
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker, consumer_options
from hlasatel_runtime.service import Runtime, build_app
from hlasatel_runtime.worker import Worker


@dataclass
class Registry:
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    search: AddressSearch
    portal: PortalVerifier
    settings: Settings


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build the registry from its settings; nothing is created at import time."""
    from hlasatel_registry.entrypoints.api import router, short_links
    from hlasatel_registry.entrypoints.errors import install_error_handlers
    from hlasatel_registry.handlers.subscribers import deactivate_invalid_contact

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

    @broker.subscriber(DELIVERY_STATUS, **consumer_options(settings.kafka, group_id="registry.contacts"))
    async def on_delivery_status(status: DeliveryStatusChanged) -> None:
        await deactivate_invalid_contact(sessions=sessions, relay=relay, status=status, settings=settings)

    async def forget_attempts(_stopping: asyncio.Event) -> bool:
        async with sessions() as session, session.begin():
            await forget_old_attempts(session, older_than=timedelta(days=1))
        return False

    janitor = Worker(name="rate-limit janitor", step=forget_attempts, idle_poll_s=3600)
    runtime = Runtime(
        name="registry",
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        metadata=Base.metadata,
        background=[relay.run, janitor.run],
    )
    app = build_app(
        runtime,
        title="Hlasatel registry",
        description=(
            "Citizens, their verified contacts and RÚIAN address points; the source of the changelog."
        ),
        routers=[router, short_links],
    )
    install_error_handlers(app)
    portal = PortalVerifier(
        issuer=settings.portal_issuer,
        audience=settings.portal_audience,
        public_key=settings.portal_public_key,
        jwks_url=settings.portal_jwks_url,
    )
    app.state.registry = Registry(
        sessions=sessions, relay=relay, search=AddressSearch(sessions), portal=portal, settings=settings
    )
    return app

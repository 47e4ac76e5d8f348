"""Builds the registry: engine, broker, outbox relay, portal verifier, HTTP app."""

import asyncio
from collections.abc import Awaitable

from fastapi import FastAPI

from hlasatel_contracts import DELIVERY_STATUS, DeliveryStatusChanged
from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.composer import ComposerHistory
from hlasatel_registry.adapters.orm import Base
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.adapters.portal import PortalVerifier
from hlasatel_registry.config import Settings
from hlasatel_registry.container import Registry
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker, consumer_options
from hlasatel_runtime.service import Runtime, build_app
from hlasatel_runtime.worker import Worker


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """Build the registry from its settings; nothing is created at import time."""
    from hlasatel_registry.entrypoints import access_api, api, pages
    from hlasatel_registry.entrypoints.errors import install_error_handlers
    from hlasatel_registry.handlers.retention import forget_unverified
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

    async def forget(_stopping: asyncio.Event) -> bool:
        await forget_unverified(sessions=sessions, relay=relay, settings=settings)
        return False

    janitor = Worker(name="retention", step=forget, idle_poll_s=settings.janitor_poll_s)
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
        routers=[api.router, pages.router, pages.short_links, access_api.router],
    )
    install_error_handlers(app)
    portal = PortalVerifier(
        issuer=settings.portal_issuer,
        audience=settings.portal_audience,
        public_key=settings.portal_public_key,
        jwks_url=settings.portal_jwks_url,
    )
    history = ComposerHistory(
        base_url=settings.composer_url,
        key=settings.composer_key.get_secret_value() if settings.composer_key else None,
    )
    app.state.registry = Registry(
        sessions=sessions,
        relay=relay,
        search=AddressSearch(sessions),
        portal=portal,
        settings=settings,
        history=history,
        proxies=settings.proxies(),
    )
    return app

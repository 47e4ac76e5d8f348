"""Builds the registry: its container, its consumers and background workers, its HTTP app. Nothing is
created at import time, and nothing the registry is made of imports this module."""

import asyncio

from fastapi import FastAPI

from hlasatel_registry.adapters.orm import Base
from hlasatel_registry.config import Settings
from hlasatel_registry.container import build_registry
from hlasatel_registry.entrypoints import access_api, api, citizen_api, consumer, pages, staff_api
from hlasatel_registry.entrypoints.errors import install_error_handlers
from hlasatel_registry.handlers.retention import forget_unverified
from hlasatel_runtime.service import Runtime, build_app
from hlasatel_runtime.worker import Worker


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """The registry's app, built from its settings."""
    settings = settings or Settings()
    registry = build_registry(settings)
    registry.broker.include_router(consumer.router(settings.kafka))
    registry.broker.context.set_global("registry", registry)

    async def forget(_stopping: asyncio.Event) -> bool:
        await forget_unverified(sessions=registry.sessions, relay=registry.relay, settings=settings)
        return False

    janitor = Worker(name="retention", step=forget, idle_poll_s=settings.janitor_poll_s)
    runtime = Runtime(
        name="registry",
        settings=settings,
        engine=registry.engine,
        sessions=registry.sessions,
        broker=registry.broker,
        metadata=Base.metadata,
        background=[registry.relay.run, janitor.run],
    )
    app = build_app(
        runtime,
        title="Hlasatel registry",
        description=(
            "Citizens, their verified contacts and RÚIAN address points; the source of the changelog."
        ),
        routers=[
            api.router,
            citizen_api.router,
            pages.router,
            pages.short_links,
            access_api.router,
            staff_api.router,
        ],
    )
    install_error_handlers(app)
    app.state.registry = registry
    return app

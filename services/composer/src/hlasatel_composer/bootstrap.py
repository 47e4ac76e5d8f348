"""Builds the composer: its container, its consumers and background workers, its HTTP app. Nothing is
created at import time, and nothing the composer is made of imports this module."""

import asyncio
import logging

from fastapi import FastAPI

from hlasatel_composer.adapters.orm import Base
from hlasatel_composer.adapters.register import current_register
from hlasatel_composer.config import Settings
from hlasatel_composer.container import build_composer
from hlasatel_composer.entrypoints import alerts_api, api, consumer, staff_api
from hlasatel_composer.entrypoints.errors import install_error_handlers
from hlasatel_runtime.errors import describe
from hlasatel_runtime.service import Runtime, build_app

log = logging.getLogger(__name__)


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """The composer's app, built from its settings."""
    settings = settings or Settings()
    composer = build_composer(settings)
    composer.broker.include_router(consumer.router(settings))
    composer.broker.context.set_global("composer", composer)

    async def read_the_register(_stopping: asyncio.Event) -> None:
        """The register in memory before the first preview asks for it (a third of a second for Liberec)."""
        try:
            async with composer.sessions() as session:
                await current_register(session)
        except Exception as exc:  # the first use reads it instead; nothing is lost
            log.warning("the register was not read at start: %s", describe(exc))

    runtime = Runtime(
        name="composer",
        settings=settings,
        engine=composer.engine,
        sessions=composer.sessions,
        broker=composer.broker,
        metadata=Base.metadata,
        background=[
            composer.fan_out.run,
            composer.redrive.run,
            composer.retention.run,
            composer.relay.run,
            read_the_register,
        ],
    )

    async def close() -> None:
        await composer.publisher.close()
        composer.renderer.close()

    runtime.closers.append(close)
    app = build_app(
        runtime,
        title="Hlasatel composer",
        description=(
            "The press office's and the utilities' API: messages, targets by district, street and house, "
            "preview, four-eyes approval, fan-out, updates and cancellation, live delivery reports. "
            "Every call needs an API key: 'Authorization: Bearer hls_…'."
        ),
        routers=[api.router, alerts_api.router, staff_api.router],
        # a CAP document is read by its route, which refuses one past COMPOSER_CAP_MAX_BYTES in its own
        # words; this is only the ceiling beyond which nothing is read at all
        body_limits={"/v1/alerts/cap": 2 * max(settings.cap_max_bytes, settings.max_body_bytes)},
    )
    install_error_handlers(app)
    app.state.composer = composer
    return app

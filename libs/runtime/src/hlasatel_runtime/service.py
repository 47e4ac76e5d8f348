"""The FastAPI app every service runs: lifespan, health, readiness, metrics, graceful shutdown."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hlasatel_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

BackgroundTask = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    """The parts a service is built from, handed to its handlers by name."""

    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    metadata: MetaData
    background: list[BackgroundTask] = field(default_factory=list)
    # run once the broker has stopped, so that no record still being handled finds its client closed
    closers: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)


async def _database_ready(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # readiness reports any failure as not ready
        log.warning("database not reachable", exc_info=False)
        return False


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @router.get("/readyz", summary="Its database and the broker are reachable")
    async def readyz(response: Response) -> dict[str, Any]:
        checks = {
            "database": await _database_ready(runtime.engine),
            "broker": await runtime.broker.ping(timeout=2.0),
        }
        ready = all(checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", "checks": checks}

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def build_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The service's app: the broker runs inside its lifespan, so SIGTERM drains both together."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.engine.begin() as connection:
            await connection.run_sync(runtime.metadata.create_all)
        await runtime.broker.start()
        stopping = asyncio.Event()
        tasks = [asyncio.create_task(task(stopping)) for task in runtime.background]
        log.info("%s started", runtime.name)
        try:
            yield
        finally:
            log.info("%s stopping: finishing in-flight work", runtime.name)
            stopping.set()
            if tasks:
                await asyncio.wait(tasks, timeout=runtime.settings.kafka.graceful_timeout_s)
            for task in tasks:
                task.cancel()
            await runtime.broker.stop()
            for close in runtime.closers:
                await close()
            await runtime.engine.dispose()
            log.info("%s stopped", runtime.name)

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.include_router(health_router(runtime))
    for router in routers:
        app.include_router(router)
    return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run until SIGTERM or Ctrl-C, then drain for at most the graceful timeout."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        timeout_graceful_shutdown=int(settings.kafka.graceful_timeout_s),
    )


def serve_command(
    prog: str,
    settings_factory: Callable[[], ServiceSettings],
    bootstrap: Callable[[Any], FastAPI],
    argv: list[str] | None = None,
) -> None:
    """The ``serve`` console command every service has."""
    import argparse

    from hlasatel_runtime.logs import configure_logging

    parser = argparse.ArgumentParser(prog=prog, description=f"Run Hlasatel {prog}.")
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    settings = settings_factory()
    configure_logging(prog, settings.log_level)
    serve(bootstrap(settings), settings)

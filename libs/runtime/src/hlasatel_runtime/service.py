"""The FastAPI app every service runs: lifespan, health, readiness, metrics, graceful shutdown."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class SchemaOutdated(RuntimeError):
    """The database was made by an older version of the service: a column it needs is missing."""


def check_schema(connection: Connection, metadata: MetaData) -> None:
    """Refuse to run on tables that lack a column of this version (create_all adds tables, never columns)."""
    inspector = inspect(connection)
    missing = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        if inspector.has_table(table.name)
        for column in table.columns
        if column.name not in {c["name"] for c in inspector.get_columns(table.name)}
    ]
    if missing:
        raise SchemaOutdated(
            f"the database lacks {', '.join(missing)}: it was made by an older version. On a laptop, "
            "`make clean` starts afresh; a deployment migrates its schema first"
        )


async def _too_large(request: Request, exc: Exception) -> Response:
    """413 with the limit that was passed; every other HTTP error as FastAPI answers it."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code != 413:
        return await http_exception_handler(request, exc)
    limit = request.scope.get("hlasatel.max_body_size")
    reason = f"the request body is larger than {limit} bytes, the most this route reads" if limit else None
    return JSONResponse({"detail": reason or "the request body is too large"}, status_code=413)


class BodyLimit:
    """No route reads more of a request body than its limit (the service's, or the route's own): a body
    declared larger is refused at once, one that grows past it while it is read is refused then, both
    with a 413 that names the limit."""

    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[str, int]) -> None:
        self.app, self.default, self.routes = app, default, dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.routes.get(scope["path"], self.default)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > limit:
            detail = (
                f"the request body is {int(declared)} bytes, larger than {limit}, the most this route reads"
            )
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        read = 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > limit:
                # raised where the body is read: the route's error handling answers it (see _too_large)
                raise StarletteHTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        scope["hlasatel.max_body_size"] = limit
        await self.app(scope, counted, send)


def build_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """The service's app: the broker runs inside its lifespan, so SIGTERM drains both together."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.engine.begin() as connection:
            await connection.run_sync(runtime.metadata.create_all)
            await connection.run_sync(check_schema, runtime.metadata)
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

    # every route reads at most this much of a body; a route that needs more says so itself
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_exception_handler(StarletteHTTPException, _too_large)
    app.add_middleware(BodyLimit, default=runtime.settings.max_body_bytes, routes=body_limits or {})
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
        # the client's address is read by hlasatel_runtime.addresses, which knows which proxies are ours
        proxy_headers=False,
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

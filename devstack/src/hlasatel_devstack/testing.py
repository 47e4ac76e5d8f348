"""Pytest fixtures shared by every test folder: databases, the embedded broker, the whole stack, the real
Liberec address points; and each test's kind from its folder.

Database tests run on SQLite and, when DATABASE_URL is set, on PostgreSQL too, each in a fresh database.
A test lives under a `unit/` folder (no database, broker or socket: `make unit` runs these alone, in
seconds), an `integration/` one (a real database, broker or socket) or an `e2e/` one (the services as
processes), and is marked so.
"""

import asyncio
import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import AddressPoint
from hlasatel_devstack.addresses import jablonec_points, liberec_points
from hlasatel_devstack.broker import EmbeddedBroker
from hlasatel_devstack.fakes.server import NO_FAULTS, Faults
from hlasatel_devstack.ports import Ports, free_port, wait_for_port
from hlasatel_devstack.stack import SERVICES, Stack, StackConfig
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.settings import KafkaSettings

# the dispatchers' shared scenarios assert: pytest explains their failures as it does a test's
pytest.register_assert_rewrite("hlasatel_devstack.dispatching")


def eventually(
    check: Callable[[], Any],
    *,
    timeout_s: float = 60.0,
    what: str,
    detail: Callable[[], Any] = lambda: None,
    interval_s: float = 0.2,
) -> Any:
    """Ask `check` until it answers something true, and return that; fail naming `what` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what} (last seen: {detail()!r})")
        time.sleep(interval_s)


def quick_kafka(bootstrap: str) -> KafkaSettings:
    """Settings that join the embedded broker's groups in well under a second."""
    return KafkaSettings(bootstrap_servers=bootstrap, session_timeout_ms=2000, heartbeat_interval_ms=500)


def database_backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("DATABASE_URL") else ["sqlite"]


def production_backend() -> list[str]:
    """The production database when there is one (PostgreSQL, with DATABASE_URL), SQLite otherwise: for the
    long end-to-end tests whose subject is the system under faults, or its pages, rather than the SQL of one
    service (each service's own tests run that on both)."""
    return database_backends()[-1:]


def _server_dsn() -> str:
    return os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_server_dsn())
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class PostgresDatabases:
    """Fresh PostgreSQL databases on the server DATABASE_URL names, dropped afterwards."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        name = f"hlasatel_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        base, _, _ = _server_dsn().rpartition("/")
        return f"{base}/{name}"

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()


def new_database_url(backend: str, tmp_path: Path, databases: PostgresDatabases, name: str = "db") -> str:
    if backend == "postgresql":
        return databases.create()
    return f"sqlite:///{tmp_path / (name + '.db')}"


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(params=database_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases
) -> str:
    """A fresh, empty database: SQLite, and PostgreSQL when DATABASE_URL is set."""
    return new_database_url(request.param, tmp_path, postgres_databases)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh embedded broker for the test session, with every topic created."""
    broker = EmbeddedBroker(port=free_port(), log_file=tmp_path_factory.mktemp("broker") / "broker.log")
    broker.start()
    yield broker.bootstrap_servers
    broker.stop()


@pytest.fixture(scope="session")
def shared_data(request: pytest.FixtureRequest) -> Path:
    """The project's real test data: ../shared/data beside the checkout."""
    path = Path(request.config.rootpath).parent / "shared" / "data"
    if not path.is_dir():
        pytest.fail(f"the real test data is missing: expected {path} (shared/ beside the checkout)")
    return path


@pytest.fixture(scope="session")
def liberec_csv(shared_data: Path) -> Path:
    return shared_data / "ruian" / "20231231_OB_563889_ADR.csv"


@pytest.fixture(scope="session")
def liberec() -> list[AddressPoint]:
    """Every Liberec address point as the registry puts it on the bus (its tests check that it does)."""
    return liberec_points()


@pytest.fixture(scope="session")
def jablonec_csv(shared_data: Path) -> Path:
    return shared_data / "ruian" / "20231231_OB_563510_ADR.csv"


@pytest.fixture(scope="session")
def jablonec() -> list[AddressPoint]:
    """Every address point of Jablonec nad Nisou, as the registry puts it on the bus."""
    return jablonec_points()


KINDS = ("unit", "integration", "e2e")
# what a unit test may not ask for: it runs without a database, a broker or a process
_NOT_FOR_UNITS = {"database_url", "postgres_databases", "kafka_bootstrap", "sessions", "stack"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test marked by its folder: unit, integration or e2e; a test elsewhere, or a unit test that
    asks for a database or the broker, is an error rather than a test in the wrong run."""
    wrong: list[str] = []
    for item in items:
        kinds = [part for part in item.path.relative_to(config.rootpath).parts[:-1] if part in KINDS]
        if not kinds:
            wrong.append(f"{item.nodeid}: not under a unit/, integration/ or e2e/ folder")
            continue
        item.add_marker(kinds[-1])
        if kinds[-1] == "unit" and (asked := _NOT_FOR_UNITS & set(getattr(item, "fixturenames", ()))):
            wrong.append(f"{item.nodeid}: a unit test that asks for {', '.join(sorted(asked))}")
    if wrong:
        raise pytest.UsageError("tests in the wrong folder:\n" + "\n".join(wrong))
    # the browser journeys last, one after another: they share one city (hlasatel_devstack.browsing)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app on a loopback port (a free one by default) from a thread; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def stack_config(
    var_dir: Path,
    backend: str,
    databases: PostgresDatabases,
    environment: dict[str, str] | None = None,
    faults: Faults = NO_FAULTS,
) -> StackConfig:
    """Free ports, and a fresh database per service on the chosen backend."""
    urls = {s: databases.create() for s in SERVICES} if backend == "postgresql" else {}
    return StackConfig(
        var_dir=var_dir,
        ports=Ports.free(),
        database_urls=urls,
        environment=environment or {},
        faults=faults,
    )


@contextlib.contextmanager
def running_stack(
    var_dir: Path,
    backend: str,
    databases: PostgresDatabases,
    services: Sequence[str] = SERVICES,
    environment: dict[str, str] | None = None,
    faults: Faults = NO_FAULTS,
    web: Sequence[str] = (),
) -> Iterator[Stack]:
    """The broker, the fakes and these services as separate processes, ready; their logs on stderr if
    anything fails. `environment` is added to every service's; `faults` is how the fakes misbehave; `web`
    are the pages to start too (the console)."""
    config = stack_config(var_dir, backend, databases, environment, faults)
    running = Stack(config)
    try:
        running.start(services, web=web)
        yield running
    except BaseException:
        for log in sorted(config.log_dir.glob("*.log")):
            sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}\n")
        raise
    finally:
        running.stop()


def stack_fixture(
    name: str,
    services: Sequence[str] = SERVICES,
    environment: dict[str, str] | None = None,
    faults: Faults = NO_FAULTS,
    backends: Sequence[str] | None = None,
    web: Sequence[str] = (),
) -> Any:
    """A module's fixture `name`: the broker, the fakes and these services (and the `web` pages) as
    processes, ready, once per database backend (every one unless `backends` says which)."""

    @pytest.fixture(scope="module", params=list(backends or database_backends()), name=name)
    def running(
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
        postgres_databases: PostgresDatabases,
    ) -> Iterator[Stack]:
        var_dir = tmp_path_factory.mktemp(f"{name}-{request.param}")
        with running_stack(
            var_dir, request.param, postgres_databases, services, environment, faults, web
        ) as stack:
            yield stack

    return running


stack = stack_fixture("stack")


@contextlib.asynccontextmanager
async def sessions_on(
    database_url: str, metadata: MetaData
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a database with a service's tables created, the way the service itself builds them."""
    engine = build_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()

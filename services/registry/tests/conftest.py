from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import sessions_on
from hlasatel_registry.adapters.gazetteer_store import import_records
from hlasatel_registry.adapters.orm import Base
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.adapters.portal import PortalVerifier
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.gazetteer import AddressRecord, read_file
from hlasatel_registry.handlers import subscribers
from hlasatel_registry.schemas import SubscriberCreate, SubscriberCreated

Register = Callable[..., Awaitable[SubscriberCreated]]


@pytest.fixture(scope="session")
def records(liberec_csv: Path) -> list[AddressRecord]:
    return read_file(liberec_csv)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with sessions_on(database_url, Base.metadata) as made:
        yield made


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="https://hlasatel.liberec.cz",
        pages_url="https://zpravy.liberec.cz",
        allow_insecure=ON_LOOPBACK,
    )


async def _not_published(topic: str, key: bytes, payload: bytes) -> object:
    raise AssertionError("these tests read the outbox table; nothing is relayed")


@pytest.fixture
def relay(sessions: async_sessionmaker[AsyncSession]) -> OutboxRelay:
    return OutboxRelay(sessions=sessions, publish=_not_published)


@pytest.fixture
def register(sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay, settings: Settings) -> Register:
    """Register through the handler as the API does; keyword arguments override the settings and portal."""

    async def _register(
        body: dict[str, Any],
        *,
        assertion: str | None = None,
        ip: str | None = "192.0.2.1",
        portal: PortalVerifier | None = None,
        settings_: Settings | None = None,
    ) -> SubscriberCreated:
        return await subscribers.register_subscriber(
            sessions=sessions,
            relay=relay,
            settings=settings_ or settings,
            portal=portal or PortalVerifier(issuer="x", audience="y"),
            data=SubscriberCreate.model_validate(body),
            assertion=assertion,
            ip=ip,
        )

    return _register


Gazetteer = Callable[..., Awaitable[str]]


@pytest.fixture
def gazetteer(sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord]) -> Gazetteer:
    """Import address points (the whole Liberec file by default) and say what changed."""

    async def _load(subset: list[AddressRecord] | None = None) -> str:
        async with sessions() as session, session.begin():
            return str(await import_records(session, records if subset is None else subset))

    return _load

"""The registry's parts, built from its settings and handed to its routes and consumers by name."""

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.composer import ComposerHistory, ComposerStaff
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.adapters.portal import PortalVerifier
from hlasatel_registry.config import Settings
from hlasatel_runtime.addresses import TrustedProxies
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker
from hlasatel_runtime.outbox import raw_publisher


@dataclass
class Registry:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    relay: OutboxRelay
    search: AddressSearch
    portal: PortalVerifier
    history: ComposerHistory
    staff: ComposerStaff
    proxies: TrustedProxies


def build_registry(settings: Settings) -> Registry:
    """Every part of the registry; nothing connects until the app starts."""
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    broker = build_broker(
        settings.kafka, client_id="registry", middlewares=[dead_letter_middleware("registry")]
    )
    return Registry(
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        relay=OutboxRelay(
            sessions=sessions,
            publish=raw_publisher(broker),
            batch_size=settings.outbox_batch_size,
            idle_poll_s=settings.outbox_idle_poll_s,
        ),
        search=AddressSearch(sessions),
        portal=PortalVerifier(
            issuer=settings.portal_issuer,
            audience=settings.portal_audience,
            public_key=settings.portal_public_key,
            jwks_url=settings.portal_jwks_url,
        ),
        history=ComposerHistory(
            base_url=settings.composer_url,
            key=settings.composer_key.get_secret_value() if settings.composer_key else None,
        ),
        staff=ComposerStaff(base_url=settings.composer_url),
        proxies=settings.proxies(),
    )

"""The registry's parts, built by `bootstrap` and handed to its routes by name."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.composer import ComposerHistory
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.adapters.portal import PortalVerifier
from hlasatel_registry.config import Settings
from hlasatel_runtime.addresses import TrustedProxies


@dataclass
class Registry:
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    search: AddressSearch
    portal: PortalVerifier
    settings: Settings
    history: ComposerHistory
    proxies: TrustedProxies

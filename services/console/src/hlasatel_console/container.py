"""The console's parts, built from its settings and handed to its pages by name."""

from dataclasses import dataclass
from pathlib import Path

import httpx
from jinja2 import Environment

from hlasatel_console.adapters.composer import ComposerApi
from hlasatel_console.adapters.gazetteer import Gazetteer
from hlasatel_console.adapters.registry import RegistryApi
from hlasatel_console.config import Settings
from hlasatel_web.i18n import Languages
from hlasatel_web.pages import template_environment
from hlasatel_web.security import Sealer

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
LOCALE = PACKAGE / "locale"
# the third-party scripts and styles, from the npm registry, checked against the lock's integrity
ASSETS_LOCK = PACKAGE / "assets.lock.json"
VENDOR = STATIC / "vendor"


@dataclass
class Console:
    settings: Settings
    client: httpx.AsyncClient
    composer: ComposerApi
    registry: RegistryApi
    gazetteer: Gazetteer
    languages: Languages
    templates: Environment
    assisted: Sealer

    @property
    def secret(self) -> str:
        return self.settings.secret_key.get_secret_value()


def build_console(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Console:
    """Every part of the console; one HTTP client for both services (a transport replaces the network in
    unit tests)."""
    client = httpx.AsyncClient(timeout=settings.api_timeout_s, transport=transport)
    templates = template_environment(TEMPLATES)
    templates.filters["zip_self"] = lambda items: [(item, item) for item in items]
    templates.tests["startswith"] = lambda value, prefix: str(value).startswith(prefix)
    secret = settings.secret_key.get_secret_value()
    registry = RegistryApi(base_url=settings.registry_url, client=client)
    return Console(
        settings=settings,
        client=client,
        composer=ComposerApi(base_url=settings.composer_url, client=client),
        registry=registry,
        gazetteer=Gazetteer(registry),
        languages=Languages(LOCALE),
        templates=templates,
        assisted=Sealer(secret, "assisted-registration"),
    )

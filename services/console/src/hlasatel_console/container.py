"""The console's parts, built from its settings and handed to its pages by name."""

from dataclasses import dataclass
from pathlib import Path

import httpx
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape
from jinja2.utils import missing

from hlasatel_console.adapters.composer import ComposerApi
from hlasatel_console.adapters.gazetteer import Gazetteer
from hlasatel_console.adapters.registry import RegistryApi
from hlasatel_console.config import Settings
from hlasatel_web.i18n import Languages
from hlasatel_web.security import Sealer

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
LOCALE = PACKAGE / "locale"
# the third-party scripts and styles, from the npm registry, checked against the lock's integrity
ASSETS_LOCK = PACKAGE / "assets.lock.json"
VENDOR = STATIC / "vendor"


class PageUndefined(ChainableUndefined):
    """A name a page was not given is an error; a key that a service's answer leaves out is empty (the
    composer omits what is not set)."""

    def _given(self) -> None:
        if self._undefined_obj is missing:
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._given()
        return ""

    def __bool__(self) -> bool:
        self._given()
        return False

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._given()
        return iter(())

    def __len__(self) -> int:
        self._given()
        return 0


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
    templates = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=PageUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
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

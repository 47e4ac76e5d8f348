"""The citizen's pages' parts, built from their settings and handed to the pages by name."""

from dataclasses import dataclass
from pathlib import Path

import httpx
from jinja2 import Environment

from hlasatel_public_web.adapters.composer import ComposerApi
from hlasatel_public_web.adapters.registry import RegistryApi
from hlasatel_public_web.config import Settings
from hlasatel_runtime.addresses import TrustedProxies
from hlasatel_web.i18n import Languages
from hlasatel_web.pages import template_environment
from hlasatel_web.security import Sealer

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
LOCALE = PACKAGE / "locale"


@dataclass
class PublicWeb:
    settings: Settings
    client: httpx.AsyncClient
    registry: RegistryApi
    composer: ComposerApi
    languages: Languages
    templates: Environment
    proxies: TrustedProxies
    # what the browser keeps between two pages, sealed: a sign-up's answers, a signed-in citizen's session
    # (their access token), the contact a sign-in code went to
    sign_up: Sealer
    session: Sealer
    signing_in: Sealer

    @property
    def secret(self) -> str:
        return self.settings.secret_key.get_secret_value()


def build_public_web(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> PublicWeb:
    """Every part of the pages; one HTTP client for both services (a transport replaces the network in
    unit tests)."""
    if transport is None and settings.source_address:
        transport = httpx.AsyncHTTPTransport(local_address=settings.source_address)
    client = httpx.AsyncClient(timeout=settings.api_timeout_s, transport=transport)
    secret = settings.secret_key.get_secret_value()
    return PublicWeb(
        settings=settings,
        client=client,
        registry=RegistryApi(base_url=settings.registry_url, client=client),
        composer=ComposerApi(base_url=settings.composer_url, client=client),
        languages=Languages(LOCALE),
        templates=template_environment(TEMPLATES),
        proxies=settings.proxies(),
        sign_up=Sealer(secret, "sign-up"),
        session=Sealer(secret, "citizen-session"),
        signing_in=Sealer(secret, "signing-in"),
    )

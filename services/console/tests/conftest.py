"""The console's test harness: the app with the composer and the registry faked in memory (unit), a signed-in
browser-like client per role, and the CSRF token of its forms."""

from collections.abc import AsyncIterator

import httpx
import pytest

from hlasatel_console.bootstrap import bootstrap
from hlasatel_console.config import Settings
from hlasatel_console.entrypoints.web import SESSION_COOKIE
from hlasatel_devstack.pages import Browser

from .fakes import COMPOSER, REGISTRY, FakeServices

CONSOLE = "https://console.test"


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
async def browser(services: FakeServices) -> AsyncIterator[Browser]:
    settings = Settings(composer_url=COMPOSER, registry_url=REGISTRY, public_url=CONSOLE)
    app = bootstrap(settings, transport=services.transport())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=CONSOLE) as client:
        yield Browser(client, form_page="/sign-in")


def signed_in(browser: Browser, services: FakeServices, role: str) -> Browser:
    browser.client.cookies.set(SESSION_COOKIE, services.sign_in(role), domain="console.test")
    return browser

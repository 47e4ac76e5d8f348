"""The console's test harness: the app with the composer and the registry faked in memory (unit), a signed-in
browser-like client per role, and the CSRF token of its forms."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hlasatel_console.bootstrap import bootstrap
from hlasatel_console.config import Settings
from hlasatel_console.entrypoints.web import SESSION_COOKIE

from .fakes import COMPOSER, REGISTRY, FakeServices

CONSOLE = "https://console.test"


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


class Browser:
    """A client that keeps cookies as a browser does, and reads the CSRF token from the page it was given."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = await self.client.get(path, **kwargs)
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', answer.text)
        if found:
            self.csrf = found[1]
        return answer

    async def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> httpx.Response:
        if not self.csrf:
            await self.get("/sign-in")
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        fields: dict[str, list[str]] = {"csrf_token": [self.csrf]}
        for name, value in pairs:
            fields.setdefault(name, []).extend(value if isinstance(value, list) else [value])
        return await self.client.post(path, data=fields, **kwargs)


@pytest.fixture
async def browser(services: FakeServices) -> AsyncIterator[Browser]:
    settings = Settings(composer_url=COMPOSER, registry_url=REGISTRY, public_url=CONSOLE)
    app = bootstrap(settings, transport=services.transport())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=CONSOLE) as client:
        yield Browser(client)


def signed_in(browser: Browser, services: FakeServices, role: str) -> Browser:
    browser.client.cookies.set(SESSION_COOKIE, services.sign_in(role), domain="console.test")
    return browser

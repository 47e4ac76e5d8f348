"""The citizen's pages in a real browser (hlasatel_devstack.browsing: Chromium driven by Playwright,
axe-core on every page at a desktop's width and a phone's 360 pixels, nothing loaded from beyond
127.0.0.1) against the whole system with the city's register imported; screenshots to docs/public-web/
when HLASATEL_SCREENSHOTS=1 (`make screenshots`)."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from hlasatel_devstack.browsing import PHONE, ROOT, Visitor, open_browser
from hlasatel_devstack.stack import Stack

DOCS = ROOT / "docs" / "public-web"


def _leaving(visitor: Visitor) -> Iterator[Visitor]:
    yield visitor
    visitor.context.close()
    assert not visitor.outside, f"requests that left 127.0.0.1: {visitor.outside}"


@pytest.fixture(scope="module")
def citizen(city: Stack, chromium: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visitor]:
    """A citizen at a desktop browser; every page is checked at a phone's width too."""
    shots = tmp_path_factory.mktemp("screenshots")
    yield from _leaving(open_browser(chromium, city.url("public-web"), shots, DOCS, phone_too=True))


@pytest.fixture(scope="module")
def on_a_phone(city: Stack, chromium: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visitor]:
    """Someone on a 360-pixel phone."""
    shots = tmp_path_factory.mktemp("phone-screenshots")
    yield from _leaving(open_browser(chromium, city.url("public-web"), shots, DOCS, viewport=PHONE))

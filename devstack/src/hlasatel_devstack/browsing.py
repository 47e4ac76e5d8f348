"""Hlasatel's pages in a real browser: Debian's Chromium driven by Playwright, against the whole system
started as processes (broker, provider fakes, five services, the console and the citizen's pages) with the
city's register imported — one such city for every browser journey of the session (they run last).

A visitor's every page is checked by axe-core (at a phone's 360 pixels too, where the journey asks, with
nothing wider than the screen); a request for anything not on 127.0.0.1 fails the journey. Screenshots go
to a temporary folder, and to docs/<application>/ when HLASATEL_SCREENSHOTS=1 (`make screenshots`)."""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    ViewportSize,
    sync_playwright,
)

from hlasatel_devstack.demo import register_demo_subscribers
from hlasatel_devstack.stack import WEB, Stack
from hlasatel_devstack.testing import PostgresDatabases, database_backends, running_stack

ROOT = Path(__file__).resolve().parents[3]
GAZETTEER_FILE = "20231231_OB_563889_ADR.csv"
AXE = Axe()
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 780}


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is missing: `make test` installs it with apt-get (scripts/install-chromium.sh)")
    return found


@pytest.fixture(scope="session")
def city(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases, shared_data: Path
) -> Iterator[Stack]:
    """The whole system with its pages, on the production database when there is one (the pages keep
    nothing: one backend is enough for their journeys), Liberec's register imported and the demo citizens
    registered."""
    backend = database_backends()[-1]
    var_dir = tmp_path_factory.mktemp(f"city-{backend}")
    with running_stack(var_dir, backend, postgres_databases, web=WEB) as stack:
        stack.import_register(shared_data / "ruian" / GAZETTEER_FILE)
        register_demo_subscribers(stack.url("registry"), stack.config.ledger_dir)
        yield stack


@pytest.fixture(scope="module")
def playwright(city: Stack) -> Iterator[Playwright]:
    """Playwright's synchronous API holds the thread's event loop while it runs: it starts once the stack
    (whose start runs its own loop) is up, and stops at the end of the module."""
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
    yield browser
    browser.close()


V = TypeVar("V", bound="Visitor")


@dataclass
class Visitor:
    """Someone at their own browser: every page they open is checked by axe (at a phone's width too when
    `phone_too`), and nothing they load may come from anywhere but this machine."""

    page: Page
    context: BrowserContext
    base: str
    shots: Path
    docs: Path
    phone_too: bool = False
    outside: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.check()

    def check(self) -> Page:
        """axe-core's rules on the page as it is now, no violation passes; at 360 pixels as well, where
        nothing may be wider than the screen."""
        self.page.wait_for_load_state("networkidle")
        self._axe()
        if self.phone_too:
            wide = self.page.viewport_size or DESKTOP
            self.page.set_viewport_size(PHONE)
            self._axe()
            overflow = self.page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= PHONE["width"], f"{self.page.url} is {overflow} pixels wide on a phone"
            self.page.set_viewport_size(wide)
        self.checked.append(self.page.url)
        return self.page

    def _axe(self) -> None:
        results = AXE.run(self.page)
        assert results.violations_count == 0, f"{self.page.url}:\n{results.generate_report()}"

    def shot(self, name: str) -> None:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        if os.environ.get("HLASATEL_SCREENSHOTS") == "1":
            self.docs.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.docs / path.name)


def open_browser(
    chromium: Browser,
    base: str,
    shots: Path,
    docs: Path,
    *,
    kind: type[V] = Visitor,  # type: ignore[assignment]
    viewport: ViewportSize = DESKTOP,
    phone_too: bool = False,
    locale: str = "cs-CZ",
    **details: Any,
) -> V:
    """A visitor (of `kind`, with its `details`) in a browser context of their own, which lets nothing leave
    127.0.0.1."""
    context = chromium.new_context(viewport=viewport, locale=locale, accept_downloads=True)
    visitor = kind(page=context.new_page(), context=context, base=base, shots=shots, docs=docs,
                   phone_too=phone_too, **details)  # fmt: skip

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname != "127.0.0.1":
            visitor.outside.append(route.request.url)
            route.abort()
            return
        route.continue_()

    context.route("**/*", local_only)
    return visitor

"""The console in a real browser: Debian's Chromium driven by Playwright, against the whole system started
as processes (broker, provider fakes, five services, the console) with the city's register imported.

Every page a journey visits is checked by axe-core; a request for anything not on 127.0.0.1 fails the
journey. Screenshots go to a temporary folder, and to docs/console/ when HLASATEL_SCREENSHOTS=1 (`make
screenshots`)."""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

from hlasatel_devstack.demo import register_demo_subscribers
from hlasatel_devstack.stack import WEB, Stack
from hlasatel_devstack.testing import PostgresDatabases, database_backends, running_stack

ROOT = Path(__file__).resolve().parents[4]
GAZETTEER_FILE = "20231231_OB_563889_ADR.csv"
DOCS = ROOT / "docs" / "console"
AXE = Axe()


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is missing: `make test` installs it with apt-get (scripts/install-chromium.sh)")
    return found


@pytest.fixture(scope="module")
def playwright(city: Stack) -> Iterator[Playwright]:
    """Playwright's synchronous API holds the thread's event loop while it runs: it starts once the stack
    (whose start runs its own loop) is up, and stops before the stack does."""
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def city(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases, shared_data: Path
) -> Iterator[Stack]:
    """The whole system with the console, on the production database when there is one (the console
    keeps nothing: one backend is enough for its journeys), Liberec's register imported and the demo
    citizens registered."""
    backend = database_backends()[-1]
    var_dir = tmp_path_factory.mktemp(f"console-{backend}")
    with running_stack(var_dir, backend, postgres_databases, web=WEB) as stack:
        stack.import_register(shared_data / "ruian" / GAZETTEER_FILE)
        register_demo_subscribers(stack.url("registry"), stack.config.ledger_dir)
        yield stack


@dataclass
class Person:
    """A member of the staff at their own browser: every page they open is checked by axe, and nothing
    they load may come from anywhere but this machine."""

    role: str
    page: Page
    context: BrowserContext
    base: str
    shots: Path
    outside: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.check()

    def check(self) -> Page:
        """axe-core's rules on the page as it is now: no violation passes."""
        self.page.wait_for_load_state("networkidle")
        results = AXE.run(self.page)
        assert results.violations_count == 0, f"{self.page.url}:\n{results.generate_report()}"
        self.checked.append(self.page.url)
        return self.page

    def shot(self, name: str) -> None:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        if os.environ.get("HLASATEL_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS / path.name)

    def sign_in(self, person: dict[str, Any]) -> None:
        self.open("/")
        assert self.page.url.endswith("/sign-in"), self.page.url
        self.page.fill("#email", person["email"])
        self.page.fill("#password", person["password"])
        self.page.get_by_role("button", name="Pokračovat").click()
        self.check()
        self.page.fill("#code", pyotp.TOTP(person["totp_secret"]).now())
        self.page.locator("main form button[type=submit]").click()
        self.check()
        assert self.page.url == self.base + "/", self.page.url


@pytest.fixture(scope="module")
def people(
    city: Stack, chromium: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Person]]:
    """The editor, the approver and the admin of var/dev-staff.json, each in a browser context of their own,
    signed in (each once: a TOTP code works once)."""
    base = city.url("console")
    shots = tmp_path_factory.mktemp("screenshots")
    found: dict[str, Person] = {}
    for role in ("editor", "approver", "admin"):
        context = chromium.new_context(
            viewport={"width": 1280, "height": 900}, locale="cs-CZ", accept_downloads=True
        )
        person = Person(role=role, page=context.new_page(), context=context, base=base, shots=shots)

        def local_only(route: Route, who: Person = person) -> None:
            host = urlsplit(route.request.url).hostname
            if host not in ("127.0.0.1",):
                who.outside.append(route.request.url)
                route.abort()
                return
            route.continue_()

        context.route("**/*", local_only)
        person.sign_in(city.staff[role])
        found[role] = person
    yield found
    for person in found.values():
        person.context.close()
    leaked = {role: person.outside for role, person in found.items() if person.outside}
    assert not leaked, f"requests that left 127.0.0.1: {leaked}"

"""The console in a real browser (hlasatel_devstack.browsing: Chromium driven by Playwright, axe-core on
every page, nothing loaded from beyond 127.0.0.1) against the whole system with the city's register
imported; screenshots to docs/console/ when HLASATEL_SCREENSHOTS=1 (`make screenshots`)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser

from hlasatel_devstack.browsing import ROOT, Visitor, open_browser
from hlasatel_devstack.stack import Stack

DOCS = ROOT / "docs" / "console"


@dataclass
class Person(Visitor):
    """A member of the staff at their own browser."""

    role: str = ""

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
        person = open_browser(chromium, base, shots, DOCS, kind=Person, role=role)
        person.sign_in(city.staff[role])
        found[role] = person
    yield found
    for person in found.values():
        person.context.close()
    leaked = {role: person.outside for role, person in found.items() if person.outside}
    assert not leaked, f"requests that left 127.0.0.1: {leaked}"

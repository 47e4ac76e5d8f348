"""Every route of the console, found from its routers rather than listed by hand: each page checks who may
call it, and each page an admin can open renders as valid HTML with one h1 (so a new route cannot be added
without both)."""

from typing import Any

import pytest
from fastapi.routing import APIRoute

from hlasatel_console.entrypoints import admin, alerts, assisted, auth, compose, dashboard, messages
from hlasatel_devstack.pages import Browser, check_page

from ..conftest import signed_in
from ..fakes import FakeServices

ROUTES = [
    (method, route.path)
    for module in (auth, dashboard, compose, messages, alerts, admin, assisted)
    for route in module.router.routes
    if isinstance(route, APIRoute)
    for method in sorted(route.methods)
]
# before signing in, or the steps of signing in itself
OPEN = {"/sign-in", "/sign-in/code", "/sign-in/enrol", "/sign-out", "/invitation", "/language/{code}"}
# pages that hold no page of their own: answers for the page's scripts, a download, a redirect
NOT_PAGES = ("/api/", ".csv", "/language/")
# a later step opened without the first goes back to it (test_assisted.py opens it after the first)
STEPS = {"/register/codes": "/register"}


def concrete(path: str, message_id: str, staff_id: str = "00000000-0000-0000-0000-000000000001") -> str:
    return (
        path.replace("{message_id}", message_id)
        .replace("{staff_id}", staff_id)
        .replace("{key_id}", "00000000-0000-0000-0000-000000000002")
        .replace("{language}", "cs")
        .replace("{kind}", "alert")
        .replace("{code}", "en")
    )


def test_the_routers_were_read() -> None:
    assert ("POST", "/messages/{message_id}/decide") in ROUTES
    assert len(ROUTES) > 35


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[1] not in OPEN])
async def test_every_route_asks_to_sign_in_first(
    browser: Browser, services: FakeServices, method: str, path: str
) -> None:
    message = services.add("editor")
    url = concrete(path, message["id"])
    answer = await (browser.get(url) if method == "GET" else browser.post(url, {}))
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"].startswith("/sign-in")
    assert all(method == "GET" for method, _, _ in services.requests), "nothing was changed"


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[1].startswith("/admin")])
async def test_every_admin_route_is_refused_to_an_approver(
    browser: Browser, services: FakeServices, method: str, path: str
) -> None:
    signed_in(browser, services, "approver")
    await browser.get("/")
    url = concrete(path, "x")
    answer = await (browser.get(url) if method == "GET" else browser.post(url, {}))
    assert answer.status_code == 403
    assert all(method == "GET" for method, _, _ in services.requests), "nothing was changed"


PAGES = [
    path
    for method, path in ROUTES
    if method == "GET" and path not in OPEN and not any(part in path for part in NOT_PAGES)
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("language", ["cs", "en"])
async def test_every_page_is_valid_html_with_one_h1_that_starts_its_title(
    browser: Browser, services: FakeServices, path: str, language: str
) -> None:
    draft: dict[str, Any] = services.add("admin", state="done" if "follow-up" in path else "draft")
    browser.client.cookies.set("hlasatel-language", language, domain="console.test")
    signed_in(browser, services, "admin")
    answer = await browser.get(concrete(path, draft["id"], services.people["editor"]["id"]))
    if path in STEPS:
        assert answer.headers["location"] == STEPS[path]
        return
    assert answer.status_code == 200, answer.text[:300]
    assert check_page(answer).tree.get("lang") == language

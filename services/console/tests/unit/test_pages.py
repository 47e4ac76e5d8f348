"""Every page of the console, in Czech and in English, for the role that may see it: valid HTML with one h1
that starts its title, labelled fields, CSRF tokens, nonce-only scripts (GOV.UK Notify's admin checks every
page so)."""

import re
from typing import Any

import pytest

from hlasatel_devstack.pages import Browser, check_page

from ..conftest import signed_in
from ..fakes import FakeServices

SIGNED_OUT = ["/sign-in", "/sign-in?ended=1", "/sign-in?done=password", "/invitation?token=hsi_good"]
ADMIN_PAGES = [
    "/admin",
    "/admin/staff",
    "/admin/keys",
    "/admin/templates",
    "/admin/audit",
    "/admin/audit?actor=eva&action=message.&since=2026-12-01T00:00",
]
STAFF_PAGES = [
    "/",
    "/messages/new",
    "/messages",
    "/messages?show=waiting",
    "/messages?show=sending",
    "/alerts",
    "/alerts?show=all",
    "/register",
]
MESSAGE_STATES: list[dict[str, Any]] = [
    {"state": "draft"},
    {
        "state": "draft",
        "review": {
            "decision": "returned",
            "reason": "Doplňte čas.",
            "by": "Adam",
            "at": "2026-12-07T10:00:00+00:00",
        },
    },
    {
        "state": "rejected",
        "review": {
            "decision": "rejected",
            "reason": "Zrušeno.",
            "by": "Adam",
            "at": "2026-12-07T10:00:00+00:00",
        },
    },
    {"state": "sending", "approved_by": "Adam Schvalovatel", "approved_at": "2026-12-07T10:00:00+00:00"},
    {"state": "done", "approved_by": "Adam Schvalovatel", "approved_at": "2026-12-07T10:00:00+00:00"},
    {"state": "draft", "alert_id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11", "kind": "alert", "target": None},
    {"state": "draft", "target": {"city": True}},
]


@pytest.fixture(params=["cs", "en"])
def language(request: pytest.FixtureRequest, browser: Browser) -> str:
    browser.client.cookies.set("hlasatel-language", request.param, domain="console.test")
    return str(request.param)


class TestEveryPage:
    @pytest.mark.parametrize("path", SIGNED_OUT)
    async def test_the_pages_before_signing_in(self, browser: Browser, language: str, path: str) -> None:
        answer = await browser.get(path)
        assert answer.status_code == 200
        page = check_page(answer)
        assert page.tree.get("lang") == language

    @pytest.mark.parametrize("path", STAFF_PAGES + ADMIN_PAGES)
    async def test_the_pages_of_a_signed_in_admin(
        self, browser: Browser, services: FakeServices, language: str, path: str
    ) -> None:
        services.add("editor")
        answer = await signed_in(browser, services, "admin").get(path)
        assert answer.status_code == 200, answer.text
        page = check_page(answer)
        assert "Dana Správcová" in page.text(), "the header names who is signed in"

    @pytest.mark.parametrize(
        "fields", MESSAGE_STATES, ids=lambda f: "-".join(str(v)[:12] for v in f.values())
    )
    @pytest.mark.parametrize("role", ["editor", "approver"])
    async def test_a_message_in_every_state_to_its_author_and_to_an_approver(
        self, browser: Browser, services: FakeServices, language: str, fields: dict[str, Any], role: str
    ) -> None:
        message = services.add("editor", **fields)
        answer = await signed_in(browser, services, role).get(f"/messages/{message['id']}")
        assert answer.status_code == 200, answer.text
        check_page(answer)
        follow_up = await browser.get(f"/messages/{message['id']}/follow-up?kind=all-clear")
        check_page(follow_up)
        edit = await browser.get(f"/messages/{message['id']}/edit")
        check_page(edit)

    async def test_the_enrolment_page_shows_the_qr_code_and_the_key(
        self, browser: Browser, services: FakeServices, language: str
    ) -> None:
        token = "hss_enrolling"
        services.sessions[token] = ("editor", "enrol")
        browser.client.cookies.set("__Host-hlasatel-session", token, domain="console.test")
        answer = await browser.get("/sign-in/enrol")
        page = check_page(answer)
        assert "JBSW Y3DP EHPK 3PXP" in page.text()
        assert "<svg" in answer.text

    async def test_the_code_page_and_the_problem_pages(
        self, browser: Browser, services: FakeServices, language: str
    ) -> None:
        services.sessions["hss_pending"] = ("editor", "totp")
        browser.client.cookies.set("__Host-hlasatel-session", "hss_pending", domain="console.test")
        check_page(await browser.get("/sign-in/code"))
        signed_in(browser, services, "admin")
        missing = await browser.get("/no/such/page")
        assert missing.status_code == 404
        check_page(missing)
        unknown = await browser.get("/messages/00000000-0000-0000-0000-000000000000")
        assert unknown.status_code == 404
        check_page(unknown)

    async def test_pages_after_posting_a_form(
        self, browser: Browser, services: FakeServices, language: str
    ) -> None:
        signed_in(browser, services, "admin")
        await browser.get("/messages/new")
        posted = {
            "category": "water",
            "severity": "warning",
            "cs.sms": "Zítra nepoteče voda.",
            "street_count": "3",
            "street-0.name": "Masarykova",
            "street-0.numbers": "1-25",
            "street-0.side": "odd",
        }
        for action in ("preview", "add_street", "find_address"):
            answer = await browser.post(
                "/messages/new", {**posted, "action": action, "address_query": "Masarykova 12"}
            )
            assert answer.status_code == 200
            check_page(answer)
        check = await browser.post("/messages/check", posted)
        assert check.status_code == 200, check.text
        check_page(check)
        invited = await browser.post(
            "/admin/staff", {"name": "Petr Nový", "email": "petr@example.cz", "role": "editor"}
        )
        check_page(invited)
        key = await browser.post(
            "/admin/keys", {"name": "Teplárna", "role": "utility", "categories": "heating"}
        )
        check_page(key)
        found = await browser.post("/register", {"action": "find_address", "address_query": "Masarykova 12"})
        check_page(found)


class TestTheLiveReport:
    async def test_a_sent_message_whose_sms_wait_for_receipts_keeps_refreshing(
        self, browser: Browser, services: FakeServices
    ) -> None:
        waiting = services.add("editor", state="done", deliveries={"sms": {"accepted": 2}})
        answered = services.add("editor", state="done", deliveries={"sms": {"delivered": 2}})
        signed_in(browser, services, "approver")
        page = await browser.get(f"/messages/{waiting['id']}")
        assert f'data-live-report="/api/messages/{waiting["id"]}/report"' in page.text
        live = (await browser.get(f"/api/messages/{waiting['id']}/report")).json()
        assert live["live"] is True
        assert 'data-figure="households_reached"' in live["html"]
        assert "Masarykova 522/12" in live["unreached"], "the door-to-door table follows the figures"
        assert "data-live-report" not in (await browser.get(f"/messages/{answered['id']}")).text
        assert (await browser.get(f"/api/messages/{answered['id']}/report")).json()["live"] is False


@pytest.mark.parametrize(
    ("state", "czech"),
    [("done", "Odesláno"), ("sending", "Odesílá se"), ("rejected", "Zamítnuto"), ("cancelled", "Zrušeno")],
)
async def test_a_messages_state_is_said_in_words(
    browser: Browser, services: FakeServices, state: str, czech: str
) -> None:
    message = services.add("editor", state=state)
    page = check_page(await signed_in(browser, services, "approver").get(f"/messages/{message['id']}"))
    tag = page.tree.find(".//{http://www.w3.org/1999/xhtml}strong[@class='tag tag--" + state + "']")
    assert tag is not None and tag.text == czech


async def test_an_update_goes_without_diacritics_when_the_message_it_follows_did(
    browser: Browser, services: FakeServices
) -> None:
    plain = services.add("editor", state="done", sms_transliterate=True)
    page = await signed_in(browser, services, "editor").get(f"/messages/{plain['id']}/follow-up")
    assert re.search(r'id="sms_transliterate" name="sms_transliterate" value="1" checked', page.text)
    czech = services.add("editor", state="done")
    page = await browser.get(f"/messages/{czech['id']}/follow-up")
    assert not re.search(r'id="sms_transliterate" name="sms_transliterate" value="1" checked', page.text)
    await browser.post(
        f"/messages/{plain['id']}/follow-up",
        {"kind": "update", "cs.sms": "Voda teče.", "sms_transliterate": "1"},
    )
    body = next(b for m, p, b in services.requests if p.endswith(f"{plain['id']}/updates"))
    assert body["sms_transliterate"] is True


async def test_a_refused_key_keeps_what_the_admin_typed(browser: Browser, services: FakeServices) -> None:
    signed_in(browser, services, "admin")
    await browser.get("/admin/keys")
    answer = await browser.post(
        "/admin/keys",
        {
            "name": "Teplárna Liberec",
            "role": "utility",
            "categories": ["heating"],
            "rate_limit_per_minute": "hodně",
        },
    )
    assert answer.status_code == 422
    assert 'href="#rate_limit_per_minute"' in answer.text
    assert 'value="Teplárna Liberec"' in answer.text and 'value="hodně"' in answer.text
    assert re.search(r'name="categories" value="heating"[^>]*checked', answer.text)


async def test_an_audit_time_that_does_not_read_is_said_not_dropped(
    browser: Browser, services: FakeServices
) -> None:
    signed_in(browser, services, "admin")
    answer = await browser.get("/admin/audit", params={"since": "včera"})
    assert 'href="#since"' in answer.text
    assert not any(path == "/v1/audit" for _, path, _ in services.requests), "nothing unfiltered shown"


async def test_an_address_point_the_composer_refuses_is_said_at_the_addresses(
    browser: Browser, services: FakeServices
) -> None:
    signed_in(browser, services, "editor")
    await browser.get("/messages/new")
    answer = await browser.post("/messages/check", {"cs.sms": "Voda", "address_points": ["12a"]})
    assert answer.status_code == 422
    page = check_page(answer)
    assert page.tree.find(".//*[@id='address_points-error']") is not None

"""A signed-in citizen: in by a code to a verified contact, each answer changed on its own page with the
consent record's words, stopping all but emergencies, the messages sent, the export, and erasure."""

from typing import Any

import pytest
from hlasatel_public_web.entrypoints.web import SESSION_COOKIE

from hlasatel_devstack.pages import Browser, check_page

from ..conftest import CODE, JABLONECKA_2, MASARYKOVA_12, FakeServices

pytestmark = pytest.mark.unit


def subscribed(services: FakeServices) -> dict[str, Any]:
    subscriber = {
        "id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11",
        "token": "old-token",
        "language": "cs",
        "identity_level": "self_declared",
        "categories": ["water"],
        "quiet_hours": None,
        "addresses": [{"address_point": MASARYKOVA_12, "role": "resident", "label": "Masarykova 522/12"}],
        "contacts": [
            {"id": "c-sms", "channel": "sms", "value": "+420777123456", "verified": True, "active": True},
            {
                "id": "c-email",
                "channel": "email",
                "value": "jana@example.cz",
                "verified": True,
                "active": True,
            },
        ],
    }
    services.subscribers[subscriber["id"]] = subscriber
    return subscriber


async def signed_in(browser: Browser, services: FakeServices) -> dict[str, Any]:
    subscriber = subscribed(services)
    check_page(await browser.get("/manage"))
    code_page = await browser.follow("/manage", {"contact": "jana@example.cz"})
    assert code_page.url.path == "/manage/code" and "jana@example.cz" in check_page(code_page).text()
    home = await browser.follow("/manage/code", {"code": "123 456"})
    assert home.url.path == "/manage/subscription", home.text
    check_page(home)
    return subscriber


class TestSigningIn:
    async def test_a_code_to_a_verified_contact_opens_a_session_that_holds_no_readable_token(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscriber = await signed_in(browser, services)
        (asked,) = services.bodies("POST", "/v1/access/code")
        assert asked == {"channel": "email", "value": "jana@example.cz"}
        sealed = browser.client.cookies[SESSION_COOKIE]
        assert subscriber["token"] != "old-token" and subscriber["token"] not in sealed

    async def test_a_wrong_code_is_said_and_opens_nothing(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscribed(services)
        await browser.post("/manage", {"contact": "777 123 456"})
        wrong = await browser.post("/manage/code", {"code": "654321"})
        assert wrong.status_code == 422 and 'id="code-error"' in check_page(wrong).text() + wrong.text
        assert (await browser.get("/manage/subscription")).headers["location"] == "/manage"

    async def test_a_session_the_registry_no_longer_accepts_asks_to_sign_in_again(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscriber = await signed_in(browser, services)
        subscriber["token"] = "replaced by a sign-in elsewhere"
        answer = await browser.get("/manage/subscription")
        assert answer.headers["location"] == "/manage?ended=1"
        assert SESSION_COOKIE not in browser.client.cookies

    async def test_signing_out_ends_the_session(self, browser: Browser, services: FakeServices) -> None:
        await signed_in(browser, services)
        out = await browser.follow("/sign-out")
        assert out.url.path == "/" and SESSION_COOKIE not in browser.client.cookies


class TestChanging:
    async def test_each_change_records_what_was_agreed_on_which_page(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscriber = await signed_in(browser, services)
        path = f"/v1/subscribers/{subscriber['id']}"
        for step, form in (
            ("language", {"language": "en"}),
            ("categories", {"categories": ["water", "heating"]}),
            ("quiet-hours", {"quiet": "custom", "start": "23", "end": "6.30"}),
        ):
            check_page(await browser.get(f"/manage/{step}"))
            done = await browser.follow(f"/manage/{step}", form)
            assert done.url.path == "/manage/subscription", done.text
        language, categories, quiet = services.bodies("PATCH", path)
        assert (language["language"], language["consent"]["page"]) == ("en", "/manage/language")
        assert (
            categories["categories"] == ["water", "heating"]
            and categories["consent"]["page"] == "/manage/categories"
            and "teplo" in categories["consent"]["statement"]
        )
        assert quiet["quiet_hours"] == {"start": "23:00", "end": "06:30", "timezone": "Europe/Prague"}

    async def test_quiet_hours_that_are_no_times_are_refused_at_their_fields(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await signed_in(browser, services)
        answer = await browser.post("/manage/quiet-hours", {"quiet": "custom", "start": "25:00", "end": ""})
        assert (
            answer.status_code == 422
            and 'id="start-error"' in answer.text
            and 'id="end-error"' in answer.text
        )
        check_page(answer)

    async def test_an_address_is_added_from_the_register_and_one_removed(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscriber = await signed_in(browser, services)
        check_page(await browser.get("/manage/addresses"))
        check_page(await browser.get("/manage/addresses/add?q=jablonecka"))
        relation = await browser.follow("/manage/addresses/add", {"address_point": str(JABLONECKA_2)})
        check_page(relation)
        await browser.follow(f"/manage/addresses/relation?code={JABLONECKA_2}", {"role": "owner"})
        assert [a["address_point"] for a in subscriber["addresses"]] == [MASARYKOVA_12, JABLONECKA_2]
        await browser.follow("/manage/addresses", {"remove": str(MASARYKOVA_12)})
        assert [a["address_point"] for a in subscriber["addresses"]] == [JABLONECKA_2]

    async def test_a_new_contact_gets_its_code_and_an_old_one_goes(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscriber = await signed_in(browser, services)
        codes = await browser.follow("/manage/contacts", {"phone": "", "email": "jana@work.cz"})
        assert codes.url.path == "/manage/codes" and "jana@work.cz" in check_page(codes).text()
        new = next(c for c in subscriber["contacts"] if c["value"] == "jana@work.cz")
        done = await browser.follow("/manage/codes", {f"code-{new['id']}": CODE})
        assert done.url.path == "/manage/contacts" and new["verified"]
        await browser.follow("/manage/contacts", {"remove": "c-sms"})
        assert [c["value"] for c in subscriber["contacts"]] == ["jana@example.cz", "jana@work.cz"]

    async def test_stopping_keeps_emergencies_and_says_so(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscriber = await signed_in(browser, services)
        page = check_page(await browser.get("/manage/stop"))
        assert "Emergencies" in page.text() or "Mimořádné" in page.text()
        await browser.follow("/manage/stop")
        assert subscriber["categories"] == []


class TestTheCitizensData:
    async def test_the_messages_sent_are_listed(self, browser: Browser, services: FakeServices) -> None:
        await signed_in(browser, services)
        page = check_page(await browser.get("/manage/messages"))
        assert "Zítra nepoteče voda." in page.text()

    async def test_the_export_is_a_json_file_to_save(self, browser: Browser, services: FakeServices) -> None:
        subscriber = await signed_in(browser, services)
        answer = await browser.get("/manage/export")
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.json()["subscriber"]["id"] == subscriber["id"]

    async def test_erasure_asks_for_the_box_and_then_ends_everything(
        self, browser: Browser, services: FakeServices
    ) -> None:
        subscriber = await signed_in(browser, services)
        check_page(await browser.get("/manage/erase"))
        unconfirmed = await browser.post("/manage/erase", {})
        assert unconfirmed.status_code == 422 and subscriber["id"] in services.subscribers
        erased = await browser.follow("/manage/erase", {"confirm": "yes"})
        assert erased.url.path == "/manage/erased" and subscriber["id"] not in services.subscribers
        check_page(erased)
        assert SESSION_COOKIE not in browser.client.cookies

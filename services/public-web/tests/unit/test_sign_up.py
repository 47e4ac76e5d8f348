"""Sign up as a citizen would, one question a page, against the registry faked in memory: what each page
asks, what reaches the registry (and with whose address), and what the consent records say."""

import pytest

from hlasatel_devstack.pages import Browser, check_page

from ..conftest import CODE, MASARYKOVA_12, FakeServices

pytestmark = pytest.mark.unit


async def up_to_contacts(browser: Browser) -> None:
    found = await browser.get("/sign-up/address?q=masarykova 12")
    assert "Masarykova 522/12" in check_page(found).text()
    relation = await browser.follow("/sign-up/address", {"address_point": str(MASARYKOVA_12)})
    assert "Masarykova 522/12" in check_page(relation).text()
    addresses = await browser.follow("/sign-up/relation", {"role": "resident"})
    assert check_page(addresses).h1 in ("Vaše adresy", "Your addresses")
    contacts = await browser.follow("/sign-up/addresses", {"more": "no"})
    check_page(contacts)


async def up_to_codes(browser: Browser) -> None:
    await up_to_contacts(browser)
    codes = await browser.follow("/sign-up/contacts", {"phone": "777 123 456", "email": "jana@example.cz"})
    check_page(codes)
    assert codes.url.path == "/sign-up/codes"


def contact_ids(services: FakeServices) -> dict[str, str]:
    (subscriber,) = services.subscribers.values()
    return {c["channel"]: c["id"] for c in subscriber["contacts"]}


class TestSigningUp:
    async def test_a_citizen_signs_up_one_question_a_page_and_the_consents_say_where(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await up_to_codes(browser)
        (registered,) = services.bodies("POST", "/v1/subscribers")
        assert registered["categories"] == [], "until the answers are checked, emergencies only"
        assert registered["consent"]["page"] == "/sign-up/contacts"
        assert registered["addresses"] == [{"address_point": MASARYKOVA_12, "role": "resident"}]
        ids = contact_ids(services)
        spaced = {f"code-{ids['sms']}": "123 456", f"code-{ids['email']}": f" {CODE} "}
        categories = await browser.follow("/sign-up/codes", spaced)
        assert categories.url.path == "/sign-up/categories", check_page(categories).text()
        language = await browser.follow("/sign-up/categories", {"categories": ["water", "heating"]})
        quiet = await browser.follow("/sign-up/language", {"language": "en"})
        check = await browser.follow("/sign-up/quiet-hours", {"quiet": "night"})
        page = check_page(check)
        assert check.url.path == "/sign-up/check" and "22:00" in page.text() and "777 123 456" in page.text()
        for step in (language, quiet):
            check_page(step)
        done = await browser.follow("/sign-up/check")
        assert done.url.path == "/sign-up/done" and check_page(done).text().count("777 123 456") == 1
        agreed = services.bodies("PATCH", registered_path(services))[-1]
        assert agreed["categories"] == ["water", "heating"] and agreed["language"] == "en"
        assert agreed["quiet_hours"] == {"start": "22:00", "end": "07:00", "timezone": "Europe/Prague"}
        assert agreed["consent"]["page"] == "/sign-up/check"
        assert "777 123 456" in agreed["consent"]["statement"] in page.text(), (
            "the words agreed are those shown"
        )
        again = await browser.get("/sign-up/done")
        assert again.status_code == 303, "the answers left the browser with the confirmation"

    async def test_the_registry_counts_the_citizens_own_address(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await up_to_codes(browser)
        (registration,) = [r for r in services.asked if r.url.path == "/v1/subscribers"]
        assert registration.headers["x-forwarded-for"] == "203.0.113.7"

    async def test_a_question_out_of_turn_sends_the_citizen_to_the_first_one_unanswered(
        self, browser: Browser
    ) -> None:
        for path in ("/sign-up/check", "/sign-up/categories", "/sign-up/codes", "/sign-up/relation"):
            answer = await browser.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/sign-up/address"), path

    async def test_nothing_chosen_or_a_wrong_phone_is_said_at_the_field(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await up_to_contacts(browser)
        empty = await browser.post("/sign-up/contacts", {"phone": "", "email": ""})
        assert empty.status_code == 422 and 'href="#phone"' in empty.text
        wrong = await browser.post("/sign-up/contacts", {"phone": "call me", "email": ""})
        assert wrong.status_code == 422 and 'id="phone-error"' in wrong.text
        relation = await browser.post("/sign-up/address", {"address_point": "99"})
        assert relation.status_code in (303, 422)

    async def test_an_address_the_register_does_not_know_offers_the_nearest_and_the_office(
        self, browser: Browser
    ) -> None:
        answer = await browser.get("/sign-up/address?q=neexistující 1")
        page = check_page(answer)
        assert answer.status_code == 422 and "Masarykova 522/12" in page.text()
        assert "/sign-up/not-listed" in answer.text
        check_page(await browser.get("/sign-up/not-listed"))

    async def test_a_wrong_code_and_too_many_codes_are_said_in_the_citizens_words(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await up_to_codes(browser)
        ids = contact_ids(services)
        wrong = await browser.post(
            "/sign-up/codes", {f"code-{ids['sms']}": "111 111", f"code-{ids['email']}": "12"}
        )
        page = check_page(wrong)
        assert wrong.status_code == 422 and f'id="code-{ids["email"]}-error"' in wrong.text
        assert "6" in page.text()
        services.limited.add(f"/v1/subscribers/{registered_id(services)}/contacts/{ids['sms']}/code")
        limited = await browser.post("/sign-up/no-code", {"contact": ids["sms"], "do": "resend"})
        assert limited.status_code == 422 and "5" in check_page(limited).text()

    async def test_no_code_came_lets_the_citizen_correct_the_number(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await up_to_codes(browser)
        ids = contact_ids(services)
        check_page(await browser.get("/sign-up/no-code"))
        corrected = await browser.post(
            "/sign-up/no-code", {"contact": ids["sms"], "do": "correct", f"value-{ids['sms']}": "777 654 321"}
        )
        assert corrected.headers["location"] == "/sign-up/codes?sent=1"
        (subscriber,) = services.subscribers.values()
        assert [c["value"] for c in subscriber["contacts"]] == ["jana@example.cz", "777 654 321"]
        codes = await browser.get("/sign-up/codes?sent=1")
        assert "777 654 321" in check_page(codes).text()


def registered_id(services: FakeServices) -> str:
    (subscriber_id,) = services.subscribers
    return subscriber_id


def registered_path(services: FakeServices) -> str:
    return f"/v1/subscribers/{registered_id(services)}"

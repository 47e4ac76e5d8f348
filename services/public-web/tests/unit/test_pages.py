"""Every page: valid HTML with one h1 that starts its title, the accessibility statement and the privacy
notice linked, in Czech and in English; the links of messages, what concerns a house, the portal's JSON,
and what a reader sees when the services are down."""

import pytest
from hlasatel_public_web.container import LOCALE, PACKAGE

from hlasatel_devstack.pages import Browser, check_page
from hlasatel_web import catalogue

from ..conftest import JABLONECKA_2, MASARYKOVA_12, FakeServices

pytestmark = pytest.mark.unit
PAGES = [
    "/",
    "/sign-up",
    "/sign-up/address",
    "/sign-up/not-listed",
    "/manage",
    "/house",
    "/accessibility",
    "/privacy",
    "/manage/erased",
    f"/house/{MASARYKOVA_12}",
    "/v1/verify/email?token=good",
    "/u/water-code",
    "/v1/unsubscribe/all-code",
]
LINKS = ("/u/", "/v1/unsubscribe/")


class TestEveryPage:
    @pytest.mark.parametrize("language", ["cs", "en"])
    async def test_every_page_is_valid_and_links_the_statement_and_the_notice(
        self, browser: Browser, language: str
    ) -> None:
        await browser.get(f"/language/{language}")
        for path in PAGES:
            answer = await browser.get(path)
            assert answer.status_code == 200, path
            check_page(answer, without_csrf=LINKS)
            assert 'href="/accessibility"' in answer.text and 'href="/privacy"' in answer.text, path
            assert f'<html lang="{language}">' in answer.text

    async def test_an_unknown_page_says_so(self, browser: Browser) -> None:
        answer = await browser.get("/nothing-here")
        assert answer.status_code == 404 and check_page(answer).h1

    async def test_the_services_down_is_a_page_that_says_nothing_was_changed(
        self, browser: Browser, services: FakeServices
    ) -> None:
        services.down = True
        answer = await browser.get("/house?q=masarykova")
        assert answer.status_code == 503
        check_page(answer)

    async def test_a_form_from_elsewhere_changes_nothing(
        self, browser: Browser, services: FakeServices
    ) -> None:
        answer = await browser.client.post("/manage", data={"contact": "777123456", "csrf_token": "forged"})
        assert answer.status_code == 403 and not services.bodies("POST", "/v1/access/code")
        check_page(answer)


class TestTheCzechCatalogue:
    def test_every_text_of_the_code_and_the_templates_is_translated(self) -> None:
        missing = catalogue.untranslated("cs", PACKAGE, LOCALE)
        assert not missing, (
            f"{len(missing)} texts lack a Czech translation (`public-web update-catalogue`): {missing[:10]}"
        )


class TestTheLinksOfMessages:
    async def test_a_category_link_asks_once_and_a_one_click_post_needs_no_form(
        self, browser: Browser, services: FakeServices
    ) -> None:
        page = check_page(await browser.get("/u/water-code"), without_csrf=LINKS)
        assert "Mimořádné" in page.text() or "Emergencies" in page.text()
        one_click = await browser.post(
            "/v1/unsubscribe/water-code", {"List-Unsubscribe": "One-Click"}, csrf=False
        )
        assert one_click.status_code == 200
        assert services.bodies("POST", "/v1/links/unsubscribe/water-code")[-1] == {
            "confirm": False,
            "via": "email_link",
        }

    async def test_a_link_for_everything_asks_twice(self, browser: Browser, services: FakeServices) -> None:
        first = await browser.post("/u/all-code", {}, csrf=False)
        assert 'name="confirm" value="yes"' in first.text
        done = await browser.post("/u/all-code", {"confirm": "yes"}, csrf=False)
        check_page(done, without_csrf=LINKS)
        assert services.bodies("POST", "/v1/links/unsubscribe/all-code")[-1] == {
            "confirm": True,
            "via": "sms_link",
        }

    async def test_a_link_that_is_not_valid_says_so(self, browser: Browser) -> None:
        answer = await browser.get("/u/made-up")
        assert answer.status_code == 404 and check_page(answer).h1

    async def test_the_email_link_verifies_only_with_the_button(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await browser.get("/v1/verify/email?token=good")
        assert not services.bodies("POST", "/v1/links/verify-email"), "opening the link verifies nothing"
        done = await browser.post("/v1/verify/email", {"token": "good"})
        assert done.status_code == 200 and services.bodies("POST", "/v1/links/verify-email") == [
            {"token": "good"}
        ]
        expired = await browser.post("/v1/verify/email", {"token": "old"})
        assert expired.status_code == 422


class TestWhatConcernsMyHouse:
    async def test_an_address_shows_the_messages_in_force_with_their_cap_and_the_feed(
        self, browser: Browser, services: FakeServices
    ) -> None:
        services.alerts[MASARYKOVA_12] = [
            {
                "id": "7d3f1c2a-9b4e-4f1a-8c2d-1e0f5a6b7c8d",
                "kind": "alert",
                "category": "water",
                "severity": "warning",
                "headline": "Přerušení dodávky vody",
                "text": "Zítra 8–14 h nepoteče voda.",
                "sent": "2026-12-07T08:00:00+00:00",
                "onset": None,
                "expires_at": None,
                "cap": "http://composer.test/v1/public/messages/7d3f1c2a-9b4e-4f1a-8c2d-1e0f5a6b7c8d.cap",
            }
        ]
        found = check_page(await browser.get("/house?q=masarykova"))
        assert f'href="/house/{MASARYKOVA_12}"' in found.text() or "Masarykova" in found.text()
        answer = await browser.get(f"/house/{MASARYKOVA_12}")
        assert "Přerušení dodávky vody" in check_page(answer).text()
        assert ".cap" in answer.text and "feed.atom" in answer.text
        assert f"/sign-up/address?code={MASARYKOVA_12}" in answer.text
        other = await browser.get(f"/house/{JABLONECKA_2}")
        assert "Přerušení dodávky vody" not in other.text

    async def test_signing_up_from_a_house_starts_at_its_address(self, browser: Browser) -> None:
        answer = await browser.get(f"/sign-up/address?code={MASARYKOVA_12}")
        assert answer.headers["location"] == "/sign-up/relation"


class TestThePortalsJson:
    async def test_the_portal_gets_the_registrys_list_with_its_assertion(
        self, browser: Browser, services: FakeServices
    ) -> None:
        answer = await browser.get("/api/v1/messages", headers={"X-Portal-Assertion": "signed.jwt.here"})
        assert answer.json() == {"kept_for_days": 7, "messages": []}
        assert services.asked[-1].headers["x-portal-assertion"] == "signed.jwt.here"
        assert (await browser.get("/api/v1/messages")).status_code == 422

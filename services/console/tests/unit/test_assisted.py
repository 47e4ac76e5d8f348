"""A clerk registers a citizen at the office: the address from the register, the contacts, the consent
record naming the clerk (the registry writes it from the clerk's session), then the codes the citizen
reads out."""

import re
import time

import pytest

from hlasatel_console.entrypoints.assisted import COOKIE
from hlasatel_devstack.pages import Browser, check_page

from ..conftest import signed_in
from ..fakes import ADDRESS, CODE, FakeServices

FORM = {
    "action": "register",
    "address_query": "Masarykova 12",
    "address_point": str(ADDRESS["code"]),
    "role": "resident",
    "phone": "777 123 456",
    "email": "jana@example.cz",
    "language": "cs",
    "consent": "1",
}


async def registered(browser: Browser, services: FakeServices) -> list[str]:
    signed_in(browser, services, "editor")
    browser.client.cookies.set("hlasatel-language", "en", domain="console.test")
    await browser.get("/register")
    answer = await browser.post("/register", FORM)
    assert answer.status_code == 303 and answer.headers["location"] == "/register/codes"
    page = await browser.get("/register/codes")
    check_page(page)
    return re.findall(r'name="(code-[0-9a-f-]+)"', page.text)


class TestAssistedRegistration:
    async def test_the_registry_is_asked_with_the_clerks_session(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await registered(browser, services)
        body = next(r[2] for r in services.requests if r[1] == "/v1/staff/subscribers")
        assert body["addresses"] == [{"address_point": ADDRESS["code"], "role": "resident"}]
        assert [c["channel"] for c in body["contacts"]] == ["sms", "email"]
        assert COOKIE in browser.client.cookies
        assert "citizen-token" not in browser.client.cookies[COOKIE], "the citizen's token is sealed"

    async def test_without_consent_nobody_is_registered(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "editor")
        await browser.get("/register")
        answer = await browser.post("/register", {**FORM, "consent": ""})
        assert answer.status_code == 422
        assert 'href="#consent"' in answer.text
        assert not any(path == "/v1/staff/subscribers" for _, path, _ in services.requests)

    async def test_the_codes_are_checked_and_the_citizen_is_registered(
        self, browser: Browser, services: FakeServices
    ) -> None:
        fields = await registered(browser, services)
        assert len(fields) == 2
        wrong = await browser.post("/register/codes", {fields[0]: "000000", fields[1]: CODE})
        assert wrong.status_code == 422
        assert "ask the citizen to read it again" in wrong.text
        assert fields[1] not in wrong.text, "the e-mail code was right and is not asked again"
        done = await browser.post("/register/codes", {fields[0]: f" {CODE[:3]} {CODE[3:]} "})
        assert done.status_code == 200
        assert check_page(done).h1 == "The citizen is registered"

    async def test_asking_for_a_code_again_sends_that_one_and_checks_nothing(
        self, browser: Browser, services: FakeServices
    ) -> None:
        fields = await registered(browser, services)
        contact = fields[0].removeprefix("code-")
        before = len(services.requests)
        answer = await browser.post("/register/codes", {"resend": contact})
        assert answer.status_code == 200
        assert "A new code went by SMS" in check_page(answer).text()
        asked = [path for _, path, _ in services.requests[before:]]
        assert any(path.endswith(f"/contacts/{contact}/code") for path in asked)
        assert not any(path.endswith("/verify") for path in asked)

    async def test_the_form_checks_the_codes_when_enter_is_pressed(
        self, browser: Browser, services: FakeServices
    ) -> None:
        """A browser submits a form with Enter through its first submit button: it must check, not resend."""
        await registered(browser, services)
        page = await browser.get("/register/codes")
        codes_form = page.text[page.text.index('<form method="post" action="/register/codes"') :]
        codes_form = codes_form[: codes_form.index("</form>")]
        first_button = re.search(r"<button[^>]*>", codes_form)
        assert first_button is not None and "resend" not in first_button[0]


class TestTheSealedRegistration:
    async def test_another_clerk_at_the_same_browser_does_not_get_it(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await registered(browser, services)
        signed_in(browser, services, "approver")
        answer = await browser.get("/register/codes")
        assert answer.status_code == 303 and answer.headers["location"] == "/register"

    async def test_signing_out_forgets_it(self, browser: Browser, services: FakeServices) -> None:
        await registered(browser, services)
        answer = await browser.post("/sign-out", {})
        cleared = [v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE)]
        assert cleared and "max-age=0" in cleared[0].lower()

    async def test_wrong_codes_do_not_keep_it_longer_than_twenty_minutes_from_the_registration(
        self, browser: Browser, services: FakeServices, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fields = await registered(browser, services)
        ten_minutes_later = time.time() + 600
        monkeypatch.setattr(time, "time", lambda: ten_minutes_later)
        again = await browser.post("/register/codes", {fields[0]: "000000", fields[1]: "000000"})
        resealed = [v for k, v in again.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE)]
        max_age = int(re.search(r"max-age=(\d+)", resealed[0].lower())[1])  # type: ignore[index]
        assert max_age <= 10 * 60, "sealed again, it keeps the first seal's end"


async def test_a_wrong_e_mail_address_is_said_at_the_e_mail_field(
    browser: Browser, services: FakeServices
) -> None:
    signed_in(browser, services, "editor")
    await browser.get("/register")
    answer = await browser.post("/register", {**FORM, "email": "jana.example.cz"})
    assert answer.status_code == 422
    assert 'href="#email"' in answer.text and 'href="#phone"' not in answer.text
    assert 'value="777 123 456"' in answer.text, "what the clerk typed stays"

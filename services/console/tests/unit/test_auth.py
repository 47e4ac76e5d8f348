"""Who may use the console and how: the password and the code, the session's cookie, CSRF on every form,
sign-in that comes back only to this console, and roles that bind every page and every form."""

import re

import pytest

from hlasatel_console.entrypoints.web import SESSION_COOKIE
from hlasatel_devstack.pages import Browser, check_page
from hlasatel_web.security import CSRF_COOKIE

from ..conftest import signed_in
from ..fakes import CODE, PASSWORD, FakeServices


def cookie_header(answer_headers: list[tuple[str, str]], name: str) -> str:
    found = [value for key, value in answer_headers if key == "set-cookie" and value.startswith(name + "=")]
    assert found, f"no {name} cookie was set"
    return found[-1].lower()


class TestSigningIn:
    async def test_a_wrong_password_is_refused_with_an_error_summary_and_no_session(
        self, browser: Browser
    ) -> None:
        browser.client.cookies.set("hlasatel-language", "en", domain="console.test")
        await browser.get("/sign-in")
        answer = await browser.post("/sign-in", {"email": "editor@example.cz", "password": "hádám"})
        assert answer.status_code == 401
        page = check_page(answer)
        summary = page.tree.find(".//*[@class='error-summary']")
        assert summary is not None, "the page starts with the error summary"
        assert "The e-mail address or the password is wrong" in page.text()
        assert SESSION_COOKIE not in browser.client.cookies

    async def test_empty_fields_are_named_each_with_its_error(self, browser: Browser) -> None:
        answer = await browser.post("/sign-in", {"email": "", "password": ""})
        assert answer.status_code == 422
        links = re.findall(r'href="#(email|password)"', answer.text)
        assert links == ["email", "password"], "the summary links to each field in the form's order"

    async def test_the_password_then_the_code_signs_in_with_a_cookie_scripts_cannot_read(
        self, browser: Browser, services: FakeServices
    ) -> None:
        await browser.get("/sign-in")
        answer = await browser.post(
            "/sign-in", {"email": "editor@example.cz", "password": PASSWORD, "next": "/messages"}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in/code?next=/messages"
        cookie = cookie_header(answer.headers.multi_items(), SESSION_COOKIE)
        for flag in ("httponly", "secure", "samesite=strict", "path=/"):
            assert flag in cookie
        assert "domain=" not in cookie, "a __Host- cookie belongs to this host only"

        wrong = await browser.post("/sign-in/code", {"code": "000000", "next": "/messages"})
        assert wrong.status_code == 401
        check_page(wrong)
        assert (await browser.get("/messages")).status_code == 303, "not signed in before the code"

        right = await browser.post("/sign-in/code", {"code": CODE[:3] + " " + CODE[3:], "next": "/messages"})
        assert right.status_code == 303
        assert right.headers["location"] == "/messages"
        assert (await browser.get("/messages")).status_code == 200

    async def test_a_page_asks_to_sign_in_and_comes_back_afterwards(self, browser: Browser) -> None:
        answer = await browser.get("/messages?show=waiting")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in?next=/messages%3Fshow%3Dwaiting"
        page = await browser.get(answer.headers["location"])
        assert 'name="next" value="/messages?show=waiting"' in page.text

    async def test_an_ended_session_says_so(self, browser: Browser, services: FakeServices) -> None:
        browser.client.cookies.set(SESSION_COOKIE, "hss_forgotten", domain="console.test")
        answer = await browser.get("/alerts")
        assert answer.headers["location"] == "/sign-in?next=/alerts&ended=1"

    @pytest.mark.parametrize(
        "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
    )
    async def test_signing_in_never_leads_to_another_site(self, browser: Browser, target: str) -> None:
        page = await browser.get("/sign-in", params={"next": target})
        assert 'name="next" value="/"' in page.text
        answer = await browser.post(
            "/sign-in", {"email": "editor@example.cz", "password": PASSWORD, "next": target}
        )
        assert answer.headers["location"] == "/sign-in/code?next=/"
        language = await browser.get("/language/en", params={"next": target})
        assert language.headers["location"] == "/"

    async def test_signing_out_everywhere_ends_the_session_at_the_composer(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "editor")
        await browser.get("/")
        answer = await browser.post("/sign-out", {"everywhere": "1"})
        assert answer.headers["location"] == "/sign-in?done=out"
        assert ("DELETE", "/v1/staff/sessions", None) in services.requests
        assert not any(held[0] == "editor" for held in services.sessions.values())
        cookie = cookie_header(answer.headers.multi_items(), SESSION_COOKIE)
        assert "max-age=0" in cookie

    async def test_signing_out_while_the_composer_is_down_still_forgets_the_session_here(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "editor")
        await browser.get("/")
        services.down.add("/v1/staff/sessions")
        answer = await browser.post("/sign-out", {})
        assert answer.headers["location"] == "/sign-in?done=out-here"
        cookie = cookie_header(answer.headers.multi_items(), SESSION_COOKIE)
        assert "max-age=0" in cookie
        browser.client.cookies.set("hlasatel-language", "en", domain="console.test")
        said = check_page(await browser.get("/sign-in?done=out-here")).text()
        assert "a session of yours elsewhere may still be open" in said

    async def test_a_return_address_with_a_query_comes_back_whole(self, browser: Browser) -> None:
        back = "/admin/audit?actor=Adam&action=message."
        await browser.get("/sign-in")
        answer = await browser.post(
            "/sign-in", {"email": "admin@example.cz", "password": PASSWORD, "next": back}
        )
        assert (
            answer.headers["location"] == "/sign-in/code?next=/admin/audit%3Factor%3DAdam%26action%3Dmessage."
        )
        code_page = await browser.get(answer.headers["location"])
        right = await browser.post("/sign-in/code", {"code": CODE, "next": back})
        assert code_page.status_code == 200 and right.headers["location"] == back


class TestForms:
    async def test_a_form_without_the_browsers_token_changes_nothing(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "admin")
        before = len(services.requests)
        forged = await browser.client.post(
            "/admin/staff", data={"name": "Mallory", "email": "m@example.cz", "role": "admin"}
        )
        assert forged.status_code == 403
        check_page(forged)
        assert not any(method == "POST" for method, *_ in services.requests[before:])

    async def test_the_csrf_cookie_survives_a_link_from_elsewhere(self, browser: Browser) -> None:
        """SameSite=Lax: a link from a mail keeps the seed, so forms open in other tabs stay valid."""
        answer = await browser.get("/sign-in")
        cookie = cookie_header(answer.headers.multi_items(), CSRF_COOKIE)
        for flag in ("httponly", "secure", "samesite=lax", "path=/"):
            assert flag in cookie

    async def test_a_page_answering_a_form_offers_no_language_switch_that_would_lose_it(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "admin")
        assert "/language/en" in (await browser.get("/admin/staff")).text
        invited = await browser.post(
            "/admin/staff", {"name": "Petr Nový", "email": "petr@example.cz", "role": "editor"}
        )
        assert "hsi_fresh" in invited.text
        assert "/language/" not in invited.text, "the link shown once would be lost"

    async def test_a_token_from_another_browser_is_refused(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "admin")
        await browser.get("/admin/staff")
        browser.client.cookies.set(CSRF_COOKIE, "x" * 43, domain="console.test")
        answer = await browser.post(
            "/admin/staff", {"name": "Mallory", "email": "m@example.cz", "role": "admin"}
        )
        assert answer.status_code == 403

    async def test_every_page_has_a_policy_with_its_own_nonce_and_is_not_cached(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "editor")
        first, second = await browser.get("/messages/new"), await browser.get("/messages/new")
        nonces = []
        for answer in (first, second):
            policy = answer.headers["content-security-policy"]
            nonce = re.search(r"'nonce-([^']+)'", policy)
            assert nonce, policy
            assert f'nonce="{nonce[1]}"' in answer.text
            assert "'unsafe-inline'" not in policy
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["x-frame-options"] == "DENY"
            nonces.append(nonce[1])
        assert nonces[0] != nonces[1]


class TestRoles:
    @pytest.fixture(autouse=True)
    def in_english(self, browser: Browser) -> None:
        browser.client.cookies.set("hlasatel-language", "en", domain="console.test")

    @pytest.mark.parametrize("path", ["/admin", "/admin/staff", "/admin/keys", "/admin/audit"])
    @pytest.mark.parametrize("role", ["editor", "approver"])
    async def test_admin_pages_are_for_admins(
        self, browser: Browser, services: FakeServices, role: str, path: str
    ) -> None:
        answer = await signed_in(browser, services, role).get(path)
        assert answer.status_code == 403
        assert "This page is for an admin" in check_page(answer).text()

    async def test_an_admin_form_posted_by_an_editor_is_refused_before_the_composer_hears_of_it(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "editor")
        await browser.get("/")
        before = len(services.requests)
        answer = await browser.post("/admin/keys", {"name": "Teplárna", "role": "utility"})
        assert answer.status_code == 403
        assert [path for _, path, _ in services.requests[before:]] == ["/v1/staff/me"]

    async def test_an_editor_cannot_approve_and_is_told_who_can(
        self, browser: Browser, services: FakeServices
    ) -> None:
        message = services.add("admin")
        signed_in(browser, services, "editor")
        page = await browser.get(f"/messages/{message['id']}")
        assert 'value="approve"' not in page.text, "an editor is not offered the decision"
        answer = await browser.post(f"/messages/{message['id']}/decide", {"decision": "approve"})
        assert answer.status_code == 403
        assert "This page is for an approver" in check_page(answer).text()
        assert services.messages[message["id"]]["state"] == "draft"

    async def test_the_author_is_told_why_they_cannot_approve_their_own_message(
        self, browser: Browser, services: FakeServices
    ) -> None:
        message = services.add("approver")
        signed_in(browser, services, "approver")
        await browser.get(f"/messages/{message['id']}")
        answer = await browser.post(f"/messages/{message['id']}/decide", {"decision": "approve"})
        assert answer.status_code == 422
        assert "another approver must approve it" in check_page(answer).text()
        assert services.messages[message["id"]]["state"] == "draft"

    async def test_an_approval_is_of_the_message_as_the_approver_read_it(
        self, browser: Browser, services: FakeServices
    ) -> None:
        message = services.add("editor")
        signed_in(browser, services, "approver")
        page = await browser.get(f"/messages/{message['id']}")
        version = re.search(r'name="version" value="([0-9a-f]+)"', page.text)
        assert version is not None
        # the author widens the target while the approver reads
        services.messages[message["id"]]["target"] = {"city": True}
        stale = await browser.post(
            f"/messages/{message['id']}/decide",
            {"decision": "approve", "version": version[1], "confirm_reach": "1"},
        )
        assert stale.status_code == 422
        assert "changed after you opened it" in check_page(stale).text()
        assert services.messages[message["id"]]["state"] == "draft"
        fresh = re.search(r'name="version" value="([0-9a-f]+)"', stale.text)
        assert fresh is not None and fresh[1] != version[1], "the page shows the message as it is now"
        approved = await browser.post(
            f"/messages/{message['id']}/decide",
            {"decision": "approve", "version": fresh[1], "confirm_reach": "1"},
        )
        assert approved.status_code == 303
        assert services.messages[message["id"]]["state"] == "approved"

    async def test_only_the_author_is_offered_to_change_a_returned_draft(
        self, browser: Browser, services: FakeServices
    ) -> None:
        message = services.add("editor", review={"decision": "returned", "reason": "Čas.", "by": "Adam"})
        signed_in(browser, services, "approver")
        page = await browser.get(f"/messages/{message['id']}")
        assert f"/messages/{message['id']}/edit" not in page.text
        refused = await browser.get(f"/messages/{message['id']}/edit")
        assert refused.status_code == 403
        assert "Only its author, Eva Editorová, changes a draft" in check_page(refused).text()

    async def test_a_rejection_needs_a_reason_and_records_it(
        self, browser: Browser, services: FakeServices
    ) -> None:
        message = services.add("editor")
        signed_in(browser, services, "approver")
        await browser.get(f"/messages/{message['id']}")
        empty = await browser.post(f"/messages/{message['id']}/decide", {"decision": "reject"})
        assert empty.status_code == 422
        assert 'href="#reason_reject"' in empty.text
        answer = await browser.post(
            f"/messages/{message['id']}/decide", {"decision": "reject", "reason_reject": "Špatný den."}
        )
        assert answer.headers["location"] == f"/messages/{message['id']}?done=rejected"
        assert services.messages[message["id"]]["review"]["reason"] == "Špatný den."


class TestTheAdminChangesSomeone:
    async def test_a_new_role_and_scope_reach_the_composer_whole(
        self, browser: Browser, services: FakeServices
    ) -> None:
        eva = services.people["editor"]
        signed_in(browser, services, "admin")
        page = await browser.get(f"/admin/staff/{eva['id']}")
        check_page(page)
        answer = await browser.post(
            f"/admin/staff/{eva['id']}",
            {"action": "save", "role": "approver", "categories": ["water", "heating"], "emergency": "1"},
        )
        assert answer.headers["location"] == "/admin/staff"
        patched = [body for method, path, body in services.requests if method == "PATCH"]
        assert patched == [
            {
                "role": "approver",
                "categories": ["water", "heating"],
                "area": None,
                "emergency": True,
                "whole_city": False,
            }
        ], "an area no longer ticked is cleared, not left as it was"

    async def test_an_admin_disables_someone_but_is_not_offered_to_disable_themselves(
        self, browser: Browser, services: FakeServices
    ) -> None:
        signed_in(browser, services, "admin")
        own = await browser.get(f"/admin/staff/{services.people['admin']['id']}")
        assert 'value="disable"' not in own.text
        eva = services.people["editor"]
        await browser.get(f"/admin/staff/{eva['id']}")
        answer = await browser.post(f"/admin/staff/{eva['id']}", {"action": "disable"})
        assert answer.status_code == 303
        assert ("POST", f"/v1/staff/{eva['id']}/disable", None) in services.requests

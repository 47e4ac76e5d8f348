"""A citizen's journeys in a real browser: signing up at Masarykova 12 with a phone and an e-mail (the
codes read from the fakes' ledgers), reached by a message to Masarykova sent through the API; later signed
in by a code, the language changed, the data exported and erased, after which nothing reaches them; and
"what concerns my house" on a phone, which shows a water alert for Masarykova 12 and not for Jablonecká."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from hlasatel_devstack.browsing import Visitor
from hlasatel_devstack.demo import code_sent_to
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually

pytestmark = pytest.mark.browser
PHONE_NUMBER, E164 = "777 600 201", "+420777600201"
EMAIL = "obcanka.novotna@example.cz"
DEMO_JANA = "+420777000001"  # a demo citizen at Masarykova 12, who stays subscribed
HEADLINE = "Přerušení dodávky vody – Masarykova"


def water_message(city: Stack, headline: str) -> str:
    """A water outage for the whole of Masarykova, written and approved through the composer's API."""
    editor = {"Authorization": f"Bearer {city.keys['editor']}"}
    approver = {"Authorization": f"Bearer {city.keys['approver']}"}
    body = {
        "severity": "warning",
        "category": "water",
        "content": {
            "cs": {
                "sms": f"{headline}: zítra 8–14 h nepoteče voda.",
                "email": {"subject": headline, "text": "Zítra 8–14 h nepoteče voda v ulici Masarykova."},
            },
            "en": {"email": {"subject": "Water off – Masarykova", "text": "No water tomorrow 8-14."}},
        },
        "target": {"streets": [{"name": "Masarykova"}]},
    }
    with httpx.Client(base_url=city.url("composer"), timeout=30) as composer:
        made = composer.post("/v1/messages", json=body, headers=editor)
        assert made.status_code == 201, made.text
        message_id = str(made.json()["id"])
        approved = composer.post(f"/v1/messages/{message_id}/approve", headers=approver)
        assert approved.status_code == 200, approved.text
    return message_id


def subscribers_for_water(city: Stack) -> int:
    """How many subscribers a water message to Masarykova would reach now, as the composer's index knows."""
    answer = httpx.post(
        f"{city.url('composer')}/v1/targets/preview",
        json={"target": {"streets": [{"name": "Masarykova"}]}, "category": "water", "severity": "warning"},
        headers={"Authorization": f"Bearer {city.keys['editor']}"},
        timeout=30,
    )
    answer.raise_for_status()
    return int(answer.json()["subscribers"])


def sent(city: Stack, channel: str, message_id: str) -> dict[str, dict[str, Any]]:
    ledger = read_ledger(city.config.ledger_dir / f"{channel}.jsonl")
    return {e["recipient"]: e for e in ledger if e.get("message_id") == message_id}


def continue_(citizen: Visitor, name: str = "Pokračovat") -> None:
    citizen.page.get_by_role("button", name=name, exact=True).click()
    citizen.check()


class TestACitizen:
    def test_signs_up_at_their_address_and_is_reached_by_a_message_to_their_street(
        self, citizen: Visitor, city: Stack
    ) -> None:
        before = subscribers_for_water(city)
        page = citizen.open("/")
        citizen.shot("home")
        page.get_by_role("link", name="Přihlásit k odběru").first.click()
        citizen.check()
        page.get_by_role("button", name="Začít").click()
        citizen.check()
        page.get_by_label("Ulice a číslo domu").fill("masarykova 12")
        page.get_by_role("button", name="Najít adresu").click()
        citizen.check()
        page.get_by_label(re.compile(r"^Masarykova 522/12")).check()
        citizen.shot("address")
        continue_(citizen)
        page.get_by_label("Bydlím tu").check()
        continue_(citizen)
        expect(page.locator("h1")).to_have_text("Vaše adresy")
        page.get_by_label("Ne", exact=True).check()
        continue_(citizen)
        started = datetime.now(UTC)
        page.get_by_label("Číslo mobilního telefonu").fill(PHONE_NUMBER)
        page.get_by_label("E-mailová adresa").fill(EMAIL)
        continue_(citizen, "Poslat kódy")
        page.get_by_role("link", name="Kód nepřišel?").click()
        citizen.check()
        page.get_by_role("link", name="Zpět").click()
        ledger = city.config.ledger_dir
        sms_code = code_sent_to(ledger, "sms", E164, after=started)
        page.get_by_label(re.compile("^Kód z SMS")).fill(f"{sms_code[:3]} {sms_code[3:]}")
        page.get_by_label(re.compile("^Kód z e-mailu")).fill(
            code_sent_to(ledger, "email", EMAIL, after=started)
        )
        citizen.shot("codes")
        continue_(citizen)
        expect(page.locator("h1")).to_have_text("Jaké zprávy chcete dostávat?")
        page.get_by_label("Voda").check()
        page.get_by_label("Teplo").check()
        continue_(citizen)
        continue_(citizen)  # the language: Czech, as the pages are read
        page.get_by_label("Ne, posílejte je kdykoli").check()
        continue_(citizen)
        expect(page.locator("main")).to_contain_text("Masarykova 522/12")
        expect(page.locator("main")).to_contain_text(E164)
        citizen.shot("check")
        continue_(citizen, "Souhlasím a přihlašuji se k odběru")
        expect(page.locator("h1")).to_have_text("Odběr je přihlášen")
        citizen.shot("done")

        eventually(lambda: subscribers_for_water(city) == before + 1, what="the composer's index has them")
        message_id = water_message(city, HEADLINE)
        eventually(
            lambda: E164 in sent(city, "sms", message_id) and EMAIL in sent(city, "email", message_id),
            what="the message to Masarykova reached the new subscriber by SMS and by e-mail",
        )
        footer = sent(city, "sms", message_id)[E164]["text"].rsplit(" ", 1)[1]
        assert footer.startswith(citizen.base + "/u/")
        citizen.open(footer.removeprefix(citizen.base))
        expect(page.locator("main form button")).to_have_text("Zrušit tyto zprávy")

    def test_signs_in_by_a_code_changes_the_language_exports_and_erases_everything(
        self, citizen: Visitor, city: Stack, tmp_path: Path
    ) -> None:
        page = citizen.open("/manage")
        started = datetime.now(UTC)
        page.get_by_label("Telefonní číslo nebo e-mailová adresa").fill(EMAIL)
        continue_(citizen, "Pošlete mi kód")
        page.get_by_label("Kód").fill(code_sent_to(city.config.ledger_dir, "email", EMAIL, after=started))
        continue_(citizen, "Přihlásit se kódem")
        expect(page.locator("h1")).to_have_text("Váš odběr")
        citizen.shot("subscription")
        page.get_by_role("link", name="Změnit jazyk").click()
        citizen.check()
        page.get_by_label("English").check()
        continue_(citizen)
        expect(page.locator(".summary-list")).to_contain_text("Angličtina")
        page.get_by_role("link", name="Zprávy, které vám město poslalo").click()
        citizen.check()
        expect(page.locator("main")).to_contain_text(HEADLINE)
        citizen.shot("messages")
        page.get_by_role("link", name="Zpět").click()
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("^Stáhnout vše")).click()
        saved = tmp_path / "export.json"
        download.value.save_as(saved)
        exported = json.loads(saved.read_text(encoding="utf-8"))
        assert {c["value"] for c in exported["contacts"]} == {E164, EMAIL}
        agreed = [c["details"].get("page") for c in exported["consents"]]
        assert [p for p in agreed if p] == ["/sign-up/contacts", "/sign-up/check", "/manage/language"]
        assert HEADLINE in {d["headline"] for d in exported["deliveries"]["deliveries"]}

        for path in ("/manage/addresses", "/manage/contacts", "/manage/stop", "/manage/quiet-hours"):
            citizen.open(path)
        subscribed = subscribers_for_water(city)
        citizen.open("/manage/erase")
        page.get_by_label("Ano, smažte o mně všechno").check()
        continue_(citizen, "Smazat všechno")
        expect(page.locator("h1")).to_have_text("Všechno o vás bylo smazáno")
        citizen.shot("erased")
        eventually(
            lambda: subscribers_for_water(city) == subscribed - 1, what="the erasure reached the index"
        )
        after = water_message(city, "Přerušení dodávky vody – Masarykova, podruhé")
        eventually(lambda: DEMO_JANA in sent(city, "sms", after), what="the street was reached")
        assert E164 not in sent(city, "sms", after) and EMAIL not in sent(city, "email", after)


class TestWhatConcernsMyHouse:
    def test_on_a_phone_masarykova_12_shows_the_water_alert_and_jablonecka_does_not(
        self, on_a_phone: Visitor, city: Stack
    ) -> None:
        water_message(city, "Voda – Masarykova, co se týká domu")
        page = on_a_phone.open("/house")
        page.get_by_label("Ulice a číslo domu").fill("masarykova 12")
        page.get_by_role("button", name="Najít adresu").click()
        on_a_phone.check()
        page.get_by_role("link", name="Masarykova 522/12").click()
        on_a_phone.check()
        expect(page.locator("main")).to_contain_text("Voda – Masarykova, co se týká domu")
        expect(page.get_by_role("link", name=re.compile("CAP 1.2")).first).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("Atom"))).to_be_visible()
        on_a_phone.shot("house-phone")
        cap = page.get_by_role("link", name=re.compile("CAP 1.2")).first.get_attribute("href")
        assert cap and httpx.get(cap, timeout=10).text.startswith("<?xml")
        page.get_by_role("link", name="Zpět").click()
        page.get_by_label("Ulice a číslo domu").fill("jablonecká")
        page.get_by_role("button", name="Najít adresu").click()
        on_a_phone.check()
        page.locator("main ul.list a").first.click()
        on_a_phone.check()
        expect(page.locator("main")).not_to_contain_text("Voda – Masarykova")
        page.get_by_role("button", name="Přihlásit se k odběru pro tuto adresu").click()
        on_a_phone.check()
        expect(page.locator("h1")).to_have_text("Jaký máte vztah k této adrese?")

    def test_the_statement_the_notice_the_office_and_a_problem_read_well_on_a_phone(
        self, on_a_phone: Visitor
    ) -> None:
        for path in (
            "/accessibility",
            "/privacy",
            "/sign-up/not-listed",
            "/manage",
            "/v1/verify/email?token=x",
            "/no-such-page",
        ):
            on_a_phone.open(path)
        on_a_phone.shot("privacy-phone")

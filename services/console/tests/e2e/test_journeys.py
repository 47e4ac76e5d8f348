"""The press office's day in a real browser: an editor writes a message to Masarykova in Czech and English
and sees what it will reach; an approver approves it; the report fills in from the provider fakes; the
door-to-door list downloads; an author cannot approve their own message; a utility's alert waits in the
approvers' queue and is approved; a clerk registers a citizen at the office; the admin invites someone and
reads the audit log."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from hlasatel_devstack.demo import code_sent_to
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually

from .conftest import Person

pytestmark = pytest.mark.browser
SMS_CS = "Zítra 8–14 h nepoteče voda v ulici Masarykova. Děkujeme za pochopení, Severočeská vodárenská."
SMS_EN = "Tomorrow 8-14 no water in Masarykova street. Severoceska vodarenska."


def figure(person: Person, name: str) -> int:
    text = person.page.locator(f'#preview [data-figure="{name}"]').inner_text()
    return int(re.sub(r"\D", "", text))


def api_preview(city: Stack, target: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(
        f"{city.url('composer')}/v1/targets/preview",
        json={"target": target, "category": "water", "severity": "warning"},
        headers={"Authorization": f"Bearer {city.keys['editor']}"},
        timeout=30,
    )
    answer.raise_for_status()
    return dict(answer.json())


def write_message(editor: Person, *, sms: str = SMS_CS) -> None:
    page = editor.open("/messages/new")
    page.select_option("#category", "water")
    page.fill("#cs-sms", sms)
    page.fill("#street-0-name", "Masarykova")
    page.locator("#street-0-name").blur()
    expect(page.locator("#preview-summary")).to_contain_text("38")


class TestAMessageToMasarykova:
    def test_the_editor_writes_it_with_the_preview_the_map_and_the_check(
        self, people: dict[str, Person], city: Stack
    ) -> None:
        editor = people["editor"]
        write_message(editor)
        page = editor.page
        # the SMS counter counts as the contracts do: Czech letters make it UCS-2, 2 segments of 67
        counter = page.locator("#cs-sms-counter")
        expect(counter).to_contain_text("UCS-2")
        expect(counter).to_contain_text("2 segmentů po 67")
        page.locator("#language-en > summary").click()
        page.fill("#en-sms", SMS_EN)
        expect(page.locator("#en-sms-counter")).to_contain_text("GSM-7")
        # the preview's counts are the API's for the same target
        api = api_preview(city, {"streets": [{"name": "Masarykova"}]})
        assert figure(editor, "address_points") == api["address_points"] == 38
        assert figure(editor, "subscribers") == api["subscribers"]
        assert figure(editor, "deliveries-sms") == api["deliveries"]["sms"]
        # the map highlights the targeted points, and the list beside it names them
        expect(page.locator("#map-list h3")).to_contain_text("38")
        expect(page.locator("#map-list")).to_contain_text("Masarykova")
        assert page.locator("#map path.leaflet-interactive, #map canvas").count() > 0
        editor.check()
        editor.shot("compose")
        page.get_by_role("button", name="Pokračovat ke kontrole").click()
        editor.check()
        expect(page.locator("#summary")).to_contain_text("Odeslat do 38 domácností")
        editor.shot("check")
        page.get_by_role("button", name="Poslat ke schválení").click()
        editor.check()
        expect(page.locator(".notice")).to_contain_text("čeká na schvalovatele")

    def test_the_approver_approves_it_and_the_report_fills_in_from_the_fakes(
        self, people: dict[str, Person], city: Stack
    ) -> None:
        approver = people["approver"]
        dashboard = approver.open("/")
        dashboard.get_by_role("link", name=re.compile("Zítra 8–14 h")).first.click()
        page = approver.check()
        expect(page.locator("#summary")).to_contain_text("38")
        approver.shot("approve")
        page.get_by_role("button", name="Schválit a odeslat").click()
        approver.check()
        expect(page.locator(".notice")).to_contain_text("Schváleno")
        # deliveries arrive from the provider fakes and the report follows them without a reload
        expect(page.locator('[data-figure="households_reached"]')).to_have_text("2", timeout=30_000)
        expect(page.locator('[data-delivery="sms-delivered"]')).to_be_visible(timeout=30_000)
        expect(page.locator('[data-figure="households_targeted"]')).to_have_text("38")
        # the door-to-door table follows: the 36 households nobody subscribed in
        expect(page.locator("#unreached-body tbody tr")).to_have_count(36)
        approver.check()
        approver.shot("report")

    def test_the_door_to_door_list_downloads_as_csv(self, people: dict[str, Person]) -> None:
        approver = people["approver"]
        with approver.page.expect_download() as started:
            approver.page.locator("#unreached-csv").click()
        download = started.value
        rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
        assert len(rows) == 1 + 36, "a header and the 36 households of Masarykova nobody reached"
        assert any("Masarykova" in ",".join(row) for row in rows[1:])

    def test_the_editor_cannot_send_the_same_message_to_the_same_street_again(
        self, people: dict[str, Person]
    ) -> None:
        editor = people["editor"]
        write_message(editor)
        editor.page.get_by_role("button", name="Pokračovat ke kontrole").click()
        editor.check()
        expect(editor.page.locator(".error-summary")).to_contain_text("Stejná zpráva šla stejným domácnostem")


class TestNobodyApprovesTheirOwn:
    def test_an_approver_who_wrote_a_message_is_told_another_must_approve_it(
        self, people: dict[str, Person]
    ) -> None:
        approver = people["approver"]
        write_message(approver, sms="Úterý: čištění ulice Masarykova, neparkujte prosím.")
        page = approver.page
        page.select_option("#category", "traffic")
        page.get_by_role("button", name="Pokračovat ke kontrole").click()
        approver.check()
        page.get_by_role("button", name="Poslat ke schválení").click()
        approver.check()
        expect(page.locator("#own-message")).to_contain_text("nemůžete schválit")
        assert page.get_by_role("button", name="Schválit a odeslat").count() == 0
        # a forged approval is refused by the composer all the same, and said why
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        message_id = page.url.split("/messages/")[1].split("?")[0]
        answer = page.request.post(
            f"{approver.base}/messages/{message_id}/decide",
            form={"csrf_token": token or "", "decision": "approve"},
        )
        assert answer.status == 422 and "another approver must approve it" in answer.text()


class TestAnAlertInTheQueue:
    def test_a_utility_alert_waits_for_an_approver_who_approves_it(
        self, people: dict[str, Person], city: Stack
    ) -> None:
        composer = city.url("composer")
        admin = {"Authorization": f"Bearer {city.keys['admin']}"}
        made = httpx.post(
            f"{composer}/v1/keys",
            json={"name": "Teplárna Liberec", "role": "utility", "categories": ["heating"]},
            headers=admin,
            timeout=30,
        )
        made.raise_for_status()
        start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        event = {
            "event_id": "TEP-2026-12",
            "category": "heating",
            "type": "planned",
            "addresses": {"streets": [{"name": "Masarykova"}]},
            "start": start.isoformat(),
            "end": (start + timedelta(hours=4)).isoformat(),
            "reason": "oprava horkovodu",
            "contact": "Teplárna Liberec, 485 111 111",
        }
        sent = httpx.post(
            f"{composer}/v1/alerts",
            json=event,
            headers={"Authorization": f"Bearer {made.json()['key']}"},
            timeout=30,
        )
        assert sent.status_code == 201, sent.text
        approver = people["approver"]
        page = approver.open("/alerts")
        expect(page.locator("main")).to_contain_text("TEP-2026-12")
        expect(page.locator("main")).to_contain_text("čeká na schválení")
        approver.shot("alerts")
        page.locator("ol.chain a").first.click()
        approver.check()
        page.get_by_role("button", name="Schválit a odeslat").click()
        approver.check()
        expect(page.locator(".notice")).to_contain_text("Schváleno")

        def chain_sent() -> bool:
            alerts = httpx.get(
                f"{composer}/v1/alerts", params={"waiting": True}, headers=admin, timeout=30
            ).json()
            return all(alert["event_id"] != "TEP-2026-12" for alert in alerts)

        eventually(chain_sent, timeout_s=30, what="the approved alert left the approvers' queue")


class TestTheOffice:
    def test_a_clerk_registers_a_citizen_whose_phone_gets_the_code(
        self, people: dict[str, Person], city: Stack
    ) -> None:
        editor = people["editor"]
        asked_at = datetime.now(UTC)
        page = editor.open("/register")
        page.fill("#address_query", "Masarykova 12")
        page.get_by_role("button", name="Najít").click()
        editor.check()
        page.locator("input[name=address_point]").first.check()
        page.fill("#phone", "777 000 099")
        page.check("#consent")
        editor.shot("register")
        page.get_by_role("button", name="Zaregistrovat a poslat kódy").click()
        editor.check()
        code = code_sent_to(city.config.ledger_dir, "sms", "+420777000099", after=asked_at)
        page.locator("input[name^=code-]").fill(code[:3] + " " + code[3:])
        page.get_by_role("button", name="Ověřit kódy").click()
        editor.check()
        expect(page.locator("h1")).to_have_text("Občan je zaregistrován")


class TestTheAdmin:
    def test_the_admin_invites_someone_and_reads_who_approved_what(self, people: dict[str, Person]) -> None:
        admin = people["admin"]
        page = admin.open("/admin/staff")
        page.fill("#name", "Petr Nový")
        page.fill("#email", "petr.novy@example.cz")
        page.get_by_role("button", name="Pozvat", exact=True).click()
        admin.check()
        expect(page.locator("#invitation-link")).to_contain_text("/invitation?token=hsi_")
        page = admin.open("/admin/audit?action=message.approved")
        rows = page.locator("table tbody tr")
        expect(rows.first).to_contain_text("Adam Schvalovatel")
        admin.shot("audit")
        admin.open("/admin/templates")
        admin.open("/admin/keys")
        dashboard = admin.open("/")
        expect(dashboard.locator("main")).to_contain_text("TEP-2026-12")
        admin.shot("dashboard")

"""A draft between two people, as the console drives it over the API: nobody approves their own message;
an approver rejects one or returns it for changes with a reason; the author changes it; the approvers'
queue of alerts; the audit log's filters."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hlasatel_contracts import AddressPoint

from .test_alerts_api import EVENT

Addresses = dict[str, list[AddressPoint]]
MASARYKOVA = {"streets": [{"name": "Masarykova", "houses": {"numbers": ["1-25"], "side": "odd"}}]}
CONTENT = {"cs": {"sms": "Zítra 8–14 h nepoteče voda.", "push": {"title": "Voda", "body": "Odstávka"}}}
DRAFT = {"severity": "warning", "category": "water", "content": CONTENT, "target": MASARYKOVA}


@pytest.fixture(autouse=True)
async def _register(harness: Any, addresses: Addresses) -> None:
    await harness.register(addresses["Masarykova"] + addresses["Husova"])


async def drafted(api: Any, author: dict[str, str], **fields: Any) -> dict[str, Any]:
    answer = await api.client.post("/v1/messages", json={**DRAFT, **fields}, headers=author)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


class TestNobodyApprovesTheirOwn:
    async def test_an_approver_who_wrote_a_message_to_one_household_is_told_to_ask_another(
        self, api: Any, addresses: Addresses
    ) -> None:
        jana = await api.person("Jana Nováková", "approver")
        one_house = {"address_points": [addresses["Masarykova"][0].code]}
        message = await drafted(api, jana, target=one_house)
        refused = await api.client.post(f"/v1/messages/{message['id']}/approve", headers=jana)
        assert refused.status_code == 403
        assert "you wrote this message: another approver must approve it" in refused.json()["detail"]
        assert message["author_key_id"].startswith("staff:")
        other = await api.person("Petr Druhý", "approver")
        approved = await api.client.post(f"/v1/messages/{message['id']}/approve", headers=other)
        assert approved.status_code == 200 and approved.json()["approved_by"] == "Petr Druhý"

    async def test_a_key_still_approves_its_own_small_message(self, api: Any, addresses: Addresses) -> None:
        desk = await api.key("Tisková služba", "approver")
        message = await drafted(api, desk, target={"address_points": [addresses["Masarykova"][0].code]})
        approved = await api.client.post(f"/v1/messages/{message['id']}/approve", headers=desk)
        assert approved.status_code == 200, approved.text


class TestReturnedAndRejected:
    async def test_a_returned_draft_waits_for_its_author_and_is_approved_once_changed(self, api: Any) -> None:
        eva, adam = (
            await api.person("Eva Editorová", "editor"),
            await api.person("Adam Schvalovatel", "approver"),
        )
        message = await drafted(api, eva)
        returned = await api.client.post(
            f"/v1/messages/{message['id']}/return",
            json={"reason": "Uveďte, odkdy poteče voda."},
            headers=adam,
        )
        assert returned.status_code == 200, returned.text
        review = returned.json()["review"]
        assert (returned.json()["state"], review["decision"], review["by"]) == (
            "draft",
            "returned",
            "Adam Schvalovatel",
        )
        assert review["reason"] == "Uveďte, odkdy poteče voda."
        waiting = await api.client.post(f"/v1/messages/{message['id']}/approve", headers=adam)
        assert waiting.status_code == 409 and "waits for its author" in waiting.json()["detail"]

        content = {"cs": {**CONTENT["cs"], "sms": "Zítra 8–14 h nepoteče voda, od 14 h opět poteče."}}
        changed = await api.client.patch(
            f"/v1/messages/{message['id']}", json={"content": content}, headers=eva
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["review"] is None
        assert changed.json()["content"]["cs"]["sms"].endswith("opět poteče.")
        approved = await api.client.post(f"/v1/messages/{message['id']}/approve", headers=adam)
        assert approved.status_code == 200 and approved.json()["state"] == "approved"
        late = await api.client.patch(f"/v1/messages/{message['id']}", json={"content": content}, headers=eva)
        assert late.status_code == 409 and "only a draft can be changed" in late.json()["detail"]

    async def test_a_rejected_draft_is_over_with_its_reason_and_nothing_is_sent(self, api: Any) -> None:
        eva, adam = (
            await api.person("Eva Editorová", "editor"),
            await api.person("Adam Schvalovatel", "approver"),
        )
        message = await drafted(api, eva)
        rejected = await api.client.post(
            f"/v1/messages/{message['id']}/reject", json={"reason": "Odstávka byla zrušena."}, headers=adam
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["state"] == "rejected" and rejected.json()["review"]["decision"] == "rejected"
        for action in ("approve", "cancel"):
            assert (
                await api.client.post(f"/v1/messages/{message['id']}/{action}", headers=adam)
            ).status_code == 409

    async def test_an_approver_cannot_reject_their_own_draft_and_an_editor_cannot_reject_at_all(
        self, api: Any
    ) -> None:
        adam, eva = (
            await api.person("Adam Schvalovatel", "approver"),
            await api.person("Eva Editorová", "editor"),
        )
        own = await drafted(api, adam)
        refused = await api.client.post(
            f"/v1/messages/{own['id']}/reject", json={"reason": "x"}, headers=adam
        )
        assert refused.status_code == 409 and "cannot be rejected by you" in refused.json()["detail"]
        other = await drafted(api, adam)
        editor = await api.client.post(
            f"/v1/messages/{other['id']}/return", json={"reason": "x"}, headers=eva
        )
        assert editor.status_code == 403

    @pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
    async def test_a_decision_without_a_reason_is_refused(self, api: Any, reason: str) -> None:
        eva, adam = (
            await api.person("Eva Editorová", "editor"),
            await api.person("Adam Schvalovatel", "approver"),
        )
        message = await drafted(api, eva)
        answer = await api.client.post(
            f"/v1/messages/{message['id']}/reject", json={"reason": reason}, headers=adam
        )
        assert answer.status_code == 422

    async def test_only_its_author_changes_a_draft_so_nobody_approves_what_they_rewrote(
        self, api: Any
    ) -> None:
        eva, adam = (
            await api.person("Eva Editorová", "editor"),
            await api.person("Adam Schvalovatel", "approver"),
        )
        message = await drafted(api, eva)
        returned = await api.client.post(
            f"/v1/messages/{message['id']}/return", json={"reason": "Doplňte čas."}, headers=adam
        )
        assert returned.status_code == 200
        rewritten = await api.client.patch(
            f"/v1/messages/{message['id']}", json={"target": {"city": True}}, headers=adam
        )
        assert rewritten.status_code == 403
        assert "only its author, Eva Editorová, changes a draft" in rewritten.json()["detail"]
        kept = (await api.client.get(f"/v1/messages/{message['id']}", headers=adam)).json()
        assert kept["target"] != {"city": True} and kept["review"]["decision"] == "returned"

    async def test_an_edit_stays_within_the_editors_scope(self, api: Any) -> None:
        eva = await api.person("Eva Editorová", "editor", categories=["water"])
        message = await drafted(api, eva)
        answer = await api.client.patch(
            f"/v1/messages/{message['id']}", json={"category": "culture"}, headers=eva
        )
        assert answer.status_code == 403 and "culture" in answer.json()["detail"]


class TestListings:
    async def test_alerts_waiting_for_an_approver_are_listed_for_the_press_office(self, api: Any) -> None:
        water = await api.key("Severočeská vodárenská", "utility", categories=["water"])
        assert (await api.client.post("/v1/alerts", json=EVENT, headers=water)).status_code == 201
        adam = await api.person("Adam Schvalovatel", "approver")
        waiting = (await api.client.get("/v1/alerts", params={"waiting": True}, headers=adam)).json()
        assert [(a["event_id"], a["awaiting_approval"]) for a in waiting] == [(EVENT["event_id"], True)]
        assert waiting[0]["messages"][0]["state"] == "draft"
        heating = await api.person("Topení", "approver", categories=["heating"])
        assert (await api.client.get("/v1/alerts", headers=heating)).json() == []
        own = (await api.client.get("/v1/alerts", headers=water)).json()
        assert [a["event_id"] for a in own] == [EVENT["event_id"]]
        other = await api.key("Teplárna", "utility", categories=["water"])
        assert (await api.client.get("/v1/alerts", headers=other)).json() == []

    async def test_messages_since_an_hour_ago_and_the_audit_log_by_person_and_action(self, api: Any) -> None:
        eva, admin = await api.person("Eva Editorová", "editor"), await api.person("Dana Správcová", "admin")
        await drafted(api, eva)
        hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        recent = await api.client.get("/v1/messages", params={"since": hour_ago}, headers=eva)
        assert len(recent.json()) == 1
        later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
        assert (await api.client.get("/v1/messages", params={"since": later}, headers=eva)).json() == []
        found = await api.client.get(
            "/v1/audit", params={"actor": "editorová", "action": "message."}, headers=admin
        )
        assert [(e["actor"], e["action"]) for e in found.json()] == [("Eva Editorová", "message.created")]
        signed_in = await api.client.get(
            "/v1/audit", params={"actor": "eva", "action": "staff."}, headers=admin
        )
        assert signed_in.json() and all(e["action"].startswith("staff.") for e in signed_in.json())

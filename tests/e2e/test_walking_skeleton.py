"""The walking skeleton, end to end: real broker, the five services as processes, the provider fakes.

A citizen registers at a real Liberec address; the press office sends a message to one street; everyone on
that street hears it on each of their channels through the real adapters, and nobody else hears anything.
"""

import asyncio
import json
import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from hlasatel_contracts import MESSAGE_CANCELLATIONS, SUBSCRIBERS
from hlasatel_devstack.bus import read_topics
from hlasatel_devstack.demo import code_sent_to, verify_contacts
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually

pytestmark = pytest.mark.e2e

MASARYKOVA_12 = 23657235  # Masarykova 522/12, Liberec I-Staré Město
MASARYKOVA_10 = 23656727  # Masarykova 451/10
JABLONECKA_6 = 23653141  # Jablonecká 7/6, the same district, another street

JANA = {
    "addresses": [{"address_point": MASARYKOVA_12, "role": "resident"}],
    "contacts": [
        {"channel": "sms", "value": "+420777100001"},
        {"channel": "email", "value": "jana@example.cz"},
        {"channel": "push", "value": "push-token-jana"},
    ],
    "language": "cs",
}
PETR = {
    "addresses": [{"address_point": MASARYKOVA_10, "role": "owner"}],
    "contacts": [
        {"channel": "sms", "value": "777 100 002"},
        {"channel": "email", "value": "petr@example.cz"},
    ],
    "language": "en",
}
MARIE = {
    "addresses": [{"address_point": JABLONECKA_6, "role": "resident"}],
    "contacts": [
        {"channel": "sms", "value": "+420777100003"},
        {"channel": "email", "value": "marie@example.cz"},
        {"channel": "push", "value": "push-token-marie"},
    ],
    "language": "cs",
}
KAREL = {
    "addresses": [{"address_point": MASARYKOVA_10, "role": "resident"}],
    "contacts": [
        {"channel": "sms", "value": "+420777100004"},
        {"channel": "push", "value": "unregistered-karel"},
    ],
    "language": "cs",
}
MESSAGE = {
    "severity": "warning",
    "category": "water",
    "content": {
        "cs": {
            "sms": "Liberec: zítra 8–14 h odstávka vody v ulici Masarykova.",
            "email": {"subject": "Odstávka vody – Masarykova", "text": "Zítra 8–14 h nepoteče voda."},
            "push": {"title": "Odstávka vody", "body": "Zítra 8–14 h, Masarykova"},
        },
        "en": {"sms": "Liberec: water off tomorrow 8-14 in Masarykova street."},
    },
    "target": {"streets": [{"name": "Masarykova"}]},
}


@pytest.fixture(scope="module")
def registry(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.url("registry"), timeout=10)


@pytest.fixture(scope="module")
def composer(stack: Stack) -> httpx.Client:
    """The press office's editor; approvals go with the approver's key (`as_approver`)."""
    editor = {"Authorization": f"Bearer {stack.keys['editor']}"}
    return httpx.Client(base_url=stack.url("composer"), timeout=10, headers=editor)


def as_approver(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.keys['approver']}"}


def bearer(citizen: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {citizen['access_token']}"}


def ledger(stack: Stack, channel: str) -> list[dict[str, Any]]:
    return read_ledger(stack.config.ledger_dir / f"{channel}.jsonl")


def test_registry_imports_the_liberec_gazetteer(stack: Stack, liberec_csv: Path) -> None:
    summary, changes = stack.run_cli("registry", "import-addresses", str(liberec_csv)).splitlines()
    assert summary.endswith("16140 address points in 33 districts and 987 streets")
    assert changes.endswith("added 16140, updated 0, retired 0, unchanged 0")


def test_people_find_their_address_as_they_type_it(registry: httpx.Client) -> None:
    found = registry.get("/v1/addresses/search", params={"q": "masarykova 12, Liberec"})
    assert found.status_code == 200
    assert found.json()["results"][0]["code"] == MASARYKOVA_12
    missing = registry.get("/v1/addresses/search", params={"q": "Masarykova 47"})
    assert missing.status_code == 404
    assert missing.json()["suggestions"][0]["label"].startswith("Masarykova 988/46")


def test_registration_refuses_bad_input_with_a_reason(registry: httpx.Client) -> None:
    unknown = registry.post("/v1/subscribers", json={**JANA, "addresses": [{"address_point": 1}]})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["msg"] == "unknown address points: 1"
    landline = registry.post(
        "/v1/subscribers", json={**JANA, "contacts": [{"channel": "sms", "value": "485 243 111"}]}
    )
    assert landline.status_code == 422
    assert landline.json()["detail"][0]["loc"] == ["body", "contacts", 0]
    assert "mobile" in landline.json()["detail"][0]["msg"]


CITIZENS: dict[str, dict[str, Any]] = {}


def test_citizens_register_and_receive_codes(stack: Stack, registry: httpx.Client) -> None:
    for name, citizen in (("jana", JANA), ("petr", PETR), ("marie", MARIE), ("karel", KAREL)):
        response = registry.post("/v1/subscribers", json=citizen)
        assert response.status_code == 201, response.text
        CITIZENS[name] = response.json()
    assert CITIZENS["marie"]["addresses"][0]["label"] == "Jablonecká 7/6, Liberec I-Staré Město, 460 01"
    # the codes travel registry → outbox → transactional lane → dispatchers → fakes
    assert len(code_sent_to(stack.config.ledger_dir, "sms", "+420777100001")) == 6
    email = eventually(
        lambda: [e for e in ledger(stack, "email") if e["recipient"] == "jana@example.cz"],
        what="Jana's verification e-mail",
    )[-1]
    assert email["subject"] == "Ověření e-mailu pro Hlasatel Liberec"


def test_citizens_verify_by_code_and_by_the_email_link(stack: Stack, registry: httpx.Client) -> None:
    jana = CITIZENS["jana"]
    sms = next(c for c in jana["contacts"] if c["channel"] == "sms")
    wrong = registry.post(
        f"/v1/subscribers/{jana['id']}/contacts/{sms['id']}/verify", json={"code": "000000"}
    )
    assert wrong.status_code == 422 and "attempts left" in wrong.json()["detail"][0]["msg"]
    code = code_sent_to(stack.config.ledger_dir, "sms", sms["value"])
    assert registry.post(
        f"/v1/subscribers/{jana['id']}/contacts/{sms['id']}/verify", json={"code": code}
    ).is_success
    email = next(e for e in reversed(ledger(stack, "email")) if e["recipient"] == "jana@example.cz")
    link = re.search(r"https?://\S+", email["text"]).group(0)  # type: ignore[union-attr]
    page = httpx.get(link, timeout=10)
    assert page.status_code == 200 and '<form method="post"' in page.text  # a link scanner verifies nothing
    assert httpx.post(link, timeout=10).status_code == 200
    for name in ("petr", "marie"):
        verify_contacts(stack.url("registry"), stack.config.ledger_dir, CITIZENS[name])
    mine = registry.get(f"/v1/subscribers/{jana['id']}", headers=bearer(jana))
    assert all(c["verified"] for c in mine.json()["contacts"])


def test_code_requests_are_limited_per_number(registry: httpx.Client) -> None:
    karel = CITIZENS["karel"]
    sms = next(c for c in karel["contacts"] if c["channel"] == "sms")
    url = f"/v1/subscribers/{karel['id']}/contacts/{sms['id']}/code"
    answers = [registry.post(url, headers=bearer(karel)) for _ in range(5)]
    assert [a.status_code for a in answers] == [202, 202, 202, 202, 429]  # the registration sent the first
    assert 3000 < int(answers[-1].headers["Retry-After"]) <= 3601
    assert registry.post(url).status_code == 401


def test_the_composer_indexes_verified_contacts_only(composer: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []

    def indexed() -> dict[str, Any] | None:
        seen.append(composer.post("/v1/targets/preview", json={"target": {"city": True}}).json())
        return seen[-1] if seen[-1]["deliveries"] == {"sms": 3, "email": 3, "push": 3} else None

    # Karel registered on Masarykova but never typed his code: only his push token counts
    preview = eventually(indexed, what="the composer indexed every verification", detail=lambda: seen[-1])
    assert preview["subscribers"] == 4


def test_a_message_to_one_street_reaches_exactly_that_street(stack: Stack, composer: httpx.Client) -> None:
    created = composer.post("/v1/messages", json=MESSAGE)
    assert created.status_code == 201, created.text
    message_id = created.json()["id"]
    approved = composer.post(f"/v1/messages/{message_id}/approve", headers=as_approver(stack))
    assert approved.status_code == 200 and approved.json()["state"] == "approved"

    # the fake gateway reports each SMS delivered a moment after taking it
    expected = {
        "sms": {"delivered": 2},
        "email": {"accepted": 2},
        "push": {"accepted": 1, "contact_invalid": 1},
    }

    def reported() -> dict[str, Any] | None:
        message = composer.get(f"/v1/messages/{message_id}").json()
        return message if message["deliveries"] == expected else None

    message = eventually(reported, what=f"every delivery accepted, the SMS delivered: {expected}")
    assert (message["state"], message["recipients"]) == ("done", 3)

    sms = {e["recipient"]: e["text"] for e in ledger(stack, "sms") if e["message_id"] == message_id}
    assert set(sms) == {"+420777100001", "+420777100002"}
    assert sms["+420777100001"].startswith(
        "Liberec: zítra 8–14 h odstávka vody v ulici Masarykova.\nOdhlásit: "
    )
    assert sms["+420777100002"].startswith(
        "Liberec: water off tomorrow 8-14 in Masarykova street.\nUnsubscribe: "
    )
    footer_link = sms["+420777100001"].rsplit(" ", 1)[1]
    assert footer_link.startswith(f"{stack.url('registry')}/u/")
    page = httpx.get(footer_link, timeout=10)
    assert page.status_code == 200 and '<form method="post"' in page.text
    emails = {e["recipient"]: e["subject"] for e in ledger(stack, "email") if e["message_id"] == message_id}
    assert emails == {
        "jana@example.cz": "Odstávka vody – Masarykova",
        "petr@example.cz": "Odstávka vody – Masarykova",
    }
    pushes = [(e["recipient"], e["title"]) for e in ledger(stack, "push") if e["message_id"] == message_id]
    assert pushes == [("push-token-jana", "Odstávka vody")]
    nobody_else = {"+420777100003", "marie@example.cz", "push-token-marie", "+420777100004"}
    reached = {
        e["recipient"]
        for c in ("sms", "email", "push")
        for e in ledger(stack, c)
        if e["message_id"] == message_id
    }
    assert nobody_else.isdisjoint(reached)


def test_a_utility_alert_its_update_and_all_clear_reach_exactly_the_houses_concerned(
    stack: Stack, composer: httpx.Client
) -> None:
    """The water company's system, pre-approved for water: Petr's house, then Marie's street instead."""
    water = {"Authorization": f"Bearer {stack.keys['water']}"}
    event = {
        "event_id": "SVS-E2E-1",
        "category": "water",
        "addresses": {"address_points": [MASARYKOVA_10]},
        "start": "2030-06-03T08:00:00+02:00",
        "end": "2030-06-03T14:00:00+02:00",
        "reason": "oprava vodovodního řadu",
    }
    alert = composer.post("/v1/alerts", json=event, headers={**water, "Idempotency-Key": "e2e-1"})
    assert alert.status_code == 201 and not alert.json()["awaiting_approval"], alert.text
    sent = _told(stack, alert.json()["current"], "+420777100002")
    assert sent == {"+420777100002": "Water supply interruption: 3 Jun 2030, 08:00–14:00, Masarykova."}

    moved = {**event, "msg_type": "update", "addresses": {"address_points": [JABLONECKA_6]}}
    updated = composer.post("/v1/alerts", json=moved, headers=water).json()
    kinds = {m["kind"]: m["id"] for m in updated["messages"]}
    assert _told(stack, kinds["update"], "+420777100003")["+420777100003"].startswith("ZMĚNA: Odstávka vody")
    assert _told(stack, kinds["released"], "+420777100002")["+420777100002"].endswith(
        "has changed and no longer affects your address."
    )

    ended = composer.post("/v1/alerts", json={**event, "msg_type": "all-clear"}, headers=water).json()
    all_clear = next(m["id"] for m in ended["messages"] if m["kind"] == "all-clear")
    assert set(_told(stack, all_clear, "+420777100003")) == {"+420777100003"}
    told = {
        e["recipient"]
        for e in ledger(stack, "sms")
        if e["message_id"] in {m["id"] for m in ended["messages"]}
    }
    assert "+420777100001" not in told  # Jana's house on Masarykova was never concerned


def _told(stack: Stack, message_id: str, waiting_for: str) -> dict[str, str]:
    """Once `waiting_for` has the message's SMS: every SMS of the message, by phone, without its footer."""

    def arrived() -> dict[str, str] | None:
        texts = {e["recipient"]: e["text"] for e in ledger(stack, "sms") if e["message_id"] == message_id}
        return texts if waiting_for in texts else None

    found = eventually(arrived, what=f"the SMS of {message_id} reached {waiting_for}")
    return {
        phone: text.split("\n")[0].split(" Reason:")[0].split(" Důvod:")[0] for phone, text in found.items()
    }


def test_a_token_fcm_no_longer_knows_is_deactivated_everywhere(
    composer: httpx.Client, registry: httpx.Client
) -> None:
    karel = CITIZENS["karel"]

    def deactivated() -> bool:
        contacts = registry.get(f"/v1/subscribers/{karel['id']}", headers=bearer(karel)).json()["contacts"]
        return not next(c for c in contacts if c["channel"] == "push")["active"]

    eventually(deactivated, what="the registry deactivated the token dispatch-push reported invalid")
    eventually(
        lambda: (
            composer.post("/v1/targets/preview", json={"target": {"city": True}}).json()["deliveries"]["push"]
            == 2
        ),
        what="the composer stopped counting the dead token",
    )


def test_approving_twice_is_refused_and_sends_nothing_more(stack: Stack, composer: httpx.Client) -> None:
    message_id = composer.post("/v1/messages", json=MESSAGE).json()["id"]
    assert composer.post(f"/v1/messages/{message_id}/approve", headers=as_approver(stack)).status_code == 200
    again = composer.post(f"/v1/messages/{message_id}/approve", headers=as_approver(stack))
    assert again.status_code == 409
    eventually(
        lambda: (
            composer.get(f"/v1/messages/{message_id}").json()["deliveries"].get("sms") == {"delivered": 2}
        ),
        what="the second message delivered",
    )
    assert sum(1 for e in ledger(stack, "sms") if e["message_id"] == message_id) == 2


def test_erasure_reaches_the_composers_index(registry: httpx.Client, composer: httpx.Client) -> None:
    petr = CITIZENS["petr"]
    exported = registry.get(f"/v1/subscribers/{petr['id']}/export", headers=bearer(petr)).json()
    assert {c["value"] for c in exported["contacts"]} == {"+420777100002", "petr@example.cz"}
    assert registry.delete(f"/v1/subscribers/{petr['id']}", headers=bearer(petr)).status_code == 204
    assert registry.get(f"/v1/subscribers/{petr['id']}", headers=bearer(petr)).status_code == 401
    eventually(
        lambda: (
            composer.post("/v1/targets/preview", json={"target": {"city": True}}).json()["subscribers"] == 3
        ),
        what="the tombstone reached the composer",
    )


async def _changelog(bootstrap: str) -> dict[str, dict[str, Any]]:
    """The latest record of every key of the changelog, read from the very beginning."""
    latest: dict[str, dict[str, Any]] = {}
    for record in await read_topics(bootstrap, [SUBSCRIBERS]):
        value = json.loads(record.value)
        if value["version"] > latest.get(record.key.decode(), {"version": 0})["version"]:
            latest[record.key.decode()] = value
    return latest


def test_a_replay_of_the_changelog_reaches_the_registrys_state(stack: Stack, registry: httpx.Client) -> None:
    replayed = asyncio.run(_changelog(f"127.0.0.1:{stack.config.ports.broker}"))
    assert set(replayed) == {c["id"] for c in CITIZENS.values()}
    assert replayed[CITIZENS["petr"]["id"]]["type"] == "subscriber.erased"
    for name in ("jana", "marie", "karel"):
        state = registry.get(f"/v1/subscribers/{CITIZENS[name]['id']}", headers=bearer(CITIZENS[name])).json()
        record = replayed[state["id"]]
        assert record["version"] == state["version"], name
        assert [(c["value"], c["verified"], c["active"]) for c in record["contacts"]] == [
            (c["value"], c["verified"], c["active"]) for c in state["contacts"]
        ], name


def test_a_change_committed_while_the_broker_is_down_arrives_after_a_crash(
    stack: Stack, registry: httpx.Client, composer: httpx.Client
) -> None:
    eva = {
        "addresses": [{"address_point": MASARYKOVA_12}],
        "contacts": [{"channel": "push", "value": "push-eva"}],
    }
    stack.broker.stop()
    assert registry.post("/v1/subscribers", json=eva).status_code == 201  # committed with its outbox row
    stack.stop_service("registry", signal.SIGKILL)  # dies before it could publish
    stack.broker.start()  # an empty broker: the embedded one keeps nothing
    stack.start_service("registry")
    stack.wait_ready("registry")
    eventually(
        lambda: (
            composer.post("/v1/targets/preview", json={"target": {"city": True}}).json()["subscribers"] == 4
        ),
        what="Eva's registration reached the composer after the registry's restart",
        timeout_s=90,
    )


def test_a_cancellation_committed_while_the_broker_is_down_reaches_the_dispatchers_after_a_crash(
    stack: Stack, composer: httpx.Client
) -> None:
    made = composer.post("/v1/messages", json={**MESSAGE, "severity": "info"}).json()
    approved = composer.post(f"/v1/messages/{made['id']}/approve", headers=as_approver(stack))
    assert approved.status_code == 200, approved.text
    stack.broker.stop()
    cancelled = composer.post(f"/v1/messages/{made['id']}/cancel", headers=as_approver(stack))
    assert cancelled.status_code == 200, cancelled.text  # committed with its outbox row, not yet told
    stack.stop_service("composer", signal.SIGKILL)  # dies before it could publish
    stack.broker.start()  # an empty broker: the embedded one keeps nothing
    stack.start_service("composer")
    stack.wait_ready("composer")
    bootstrap = f"127.0.0.1:{stack.config.ports.broker}"
    told = asyncio.run(read_topics(bootstrap, [MESSAGE_CANCELLATIONS], quiet_s=5.0))
    assert [json.loads(r.value)["message_id"] for r in told] == [made["id"]]


def test_services_drain_on_sigterm_and_report_an_absent_broker(stack: Stack) -> None:
    # uvicorn drains, then re-raises SIGTERM so the exit status says what stopped it (143 under Kubernetes)
    assert stack.stop_service("dispatch-sms", signal.SIGTERM) in (0, -signal.SIGTERM)
    log = (stack.config.log_dir / "dispatch-sms.log").read_text()
    assert log.index("dispatch-sms stopping: finishing in-flight work") < log.index("dispatch-sms stopped")
    stack.broker.stop()
    try:
        readiness = httpx.get(f"{stack.url('registry')}/readyz", timeout=10)
        assert readiness.status_code == 503
        assert readiness.json()["checks"] == {"database": True, "broker": False}
    finally:
        stack.broker.start()  # so that the other services can hand back their partitions and stop quickly
    eventually(
        lambda: httpx.get(f"{stack.url('registry')}/readyz", timeout=10).status_code == 200,
        what="the registry ready again once the broker is back",
    )


def test_the_composer_refuses_calls_without_a_valid_key_and_keeps_the_dev_keys(stack: Stack) -> None:
    url = stack.url("composer")
    assert httpx.post(f"{url}/v1/targets/preview", json={"target": {"city": True}}).status_code == 401
    wrong = {"Authorization": "Bearer hls_not-a-key"}
    assert (
        httpx.post(f"{url}/v1/targets/preview", json={"target": {"city": True}}, headers=wrong).status_code
        == 401
    )
    editor = {"Authorization": f"Bearer {stack.keys['editor']}"}
    created = httpx.post(f"{url}/v1/keys", json={"name": "x", "role": "admin"}, headers=editor)
    assert created.status_code == 403 and "needs admin" in created.json()["detail"]
    saved = json.loads((stack.config.var_dir / "dev-keys.json").read_text())
    assert set(saved) == {"editor", "approver", "admin", "water", "weather", "registry_operator"}
    assert saved == stack.keys

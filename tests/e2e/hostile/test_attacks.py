"""Every attack of the hardening review, replayed against the running stack: the broker, the fakes and the
five services as processes, as a new user of `make run` would try them. `pytest -m hostile` runs these
with the services' own hostile-input tests."""

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hlasatel_devstack.demo import code_sent_to
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.stack import Stack, console_script
from hlasatel_devstack.testing import eventually, stack_fixture

pytestmark = pytest.mark.hostile

# the registrations of this module stay under the per-address limit but for the one test that passes it
# SMS go out one at a time, so that a slow gateway keeps a queue (see the erasure's test)
stack = stack_fixture(
    "stack",
    environment={"REGISTRY_REGISTRATIONS_PER_IP_PER_HOUR": "40", "DISPATCH_SMS_CONCURRENCY": "1"},
)

MASARYKOVA_12 = 23657235
MASARYKOVA = {"streets": [{"name": "Masarykova"}]}
CONTENT = {"cs": {"sms": "Liberec: zítra odstávka vody.", "push": {"title": "Voda", "body": "Odstávka"}}}


def key(stack: Stack, holder: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.keys[holder]}"}


def register(stack: Stack, number: str, **fields: Any) -> httpx.Response:
    body = {
        "addresses": [{"address_point": MASARYKOVA_12}],
        "contacts": [{"channel": "sms", "value": number}],
    }
    return httpx.post(f"{stack.url('registry')}/v1/subscribers", json=body | fields, timeout=10)


def verified(stack: Stack, number: str) -> dict[str, Any]:
    created = register(stack, number)
    assert created.status_code == 201, created.text
    citizen = created.json()
    sms = citizen["contacts"][0]
    code = code_sent_to(stack.config.ledger_dir, "sms", sms["value"])
    answer = httpx.post(
        f"{stack.url('registry')}/v1/subscribers/{citizen['id']}/contacts/{sms['id']}/verify",
        json={"code": code},
    )
    assert answer.json() == {"verified": True}
    return citizen


def on_masarykova(stack: Stack) -> int:
    """How many phones on Masarykova the composer's index knows (the changelog is a hop away)."""
    preview = httpx.post(
        f"{stack.url('composer')}/v1/targets/preview",
        json={"target": MASARYKOVA, "content": CONTENT},
        headers=key(stack, "admin"),
    ).json()
    return int(preview["deliveries"]["sms"])


def indexed(stack: Stack, phones: int) -> None:
    """Wait until the composer's index has this many phones on Masarykova."""
    eventually(lambda: on_masarykova(stack) >= phones, what=f"{phones} phones on Masarykova", interval_s=1.0)


def send(stack: Stack, message: dict[str, Any], author: str = "editor", approver: str = "approver") -> str:
    url = stack.url("composer")
    made = httpx.post(f"{url}/v1/messages", json=message, headers=key(stack, author), timeout=30)
    assert made.status_code == 201, made.text
    message_id = str(made.json()["id"])
    approved = httpx.post(f"{url}/v1/messages/{message_id}/approve", headers=key(stack, approver), timeout=30)
    assert approved.status_code == 200, approved.text
    return message_id


def settled(stack: Stack, message_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        read = httpx.get(f"{stack.url('composer')}/v1/messages/{message_id}", headers=key(stack, "editor"))
        body: dict[str, Any] = read.json()
        queued = sum(c.get("queued", 0) for c in body["deliveries"].values())
        return body if body["state"] == "done" and not queued else None

    result: dict[str, Any] = eventually(done, timeout_s=90, what=f"message {message_id} settled")
    return result


def test_the_gazetteer_is_imported(stack: Stack, liberec_csv: Path) -> None:
    assert "16140 address points" in stack.import_register(liberec_csv)


def test_a_time_zone_that_stops_the_fan_out_is_refused_and_the_city_keeps_sending(stack: Stack) -> None:
    atlantis = {"start": "22:00", "end": "07:00", "timezone": "Nowhere/Atlantis"}
    refused = register(stack, "+420777200001", quiet_hours=atlantis)
    assert refused.status_code == 422 and "IANA" in refused.text
    before = on_masarykova(stack)
    verified(stack, "+420777200002")
    indexed(stack, before + 1)
    message = settled(
        stack,
        send(stack, {"severity": "warning", "category": "water", "content": CONTENT, "target": MASARYKOVA}),
    )
    assert (
        message["deliveries"]["sms"].get("accepted", 0) + message["deliveries"]["sms"].get("delivered", 0)
        >= 1
    )


def test_a_registration_of_any_size_is_refused_before_it_is_read(stack: Stack) -> None:
    answer = httpx.post(
        f"{stack.url('registry')}/v1/subscribers",
        content=b"[" + b"0," * 500_000 + b"0]",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413 and "larger than" in answer.json()["detail"]


def test_a_wrong_code_hands_out_nothing(stack: Stack) -> None:
    citizen = verified(stack, "+420777200003")
    sms = citizen["contacts"][0]
    answer = httpx.post(
        f"{stack.url('registry')}/v1/subscribers/{citizen['id']}/contacts/{sms['id']}/verify",
        json={"code": "999999"},
    )
    assert answer.status_code == 422
    assert "+420777200003" not in answer.text and citizen["id"] not in answer.text


def test_a_water_key_cannot_cancel_the_weather_services_warning(stack: Stack) -> None:
    url, now = stack.url("composer"), datetime.now(UTC).replace(microsecond=0)
    warning = _cap("chmi-test-1", "Alert", now, references=None)
    made = httpx.post(f"{url}/v1/alerts/cap", content=warning, headers={**key(stack, "weather"), **_CAP})
    assert made.status_code == 201, made.text
    cancel = _cap("water-cancel-1", "Cancel", now, references=f"chmi@chmi.cz,chmi-test-1,{now.isoformat()}")
    forged = httpx.post(f"{url}/v1/alerts/cap", content=cancel, headers={**key(stack, "water"), **_CAP})
    assert forged.status_code == 403 and "belongs to another key" in forged.json()["detail"]
    alert = made.json()["alert"]
    message = httpx.get(f"{url}/v1/messages/{alert['current']}", headers=key(stack, "weather")).json()
    assert message["state"] in ("approved", "sending", "done")


def test_a_utility_reads_no_message_but_its_own(stack: Stack) -> None:
    url = stack.url("composer")
    made = httpx.post(
        f"{url}/v1/messages",
        json={"severity": "info", "category": "culture", "content": CONTENT, "target": MASARYKOVA},
        headers=key(stack, "editor"),
    )
    assert httpx.get(f"{url}/v1/messages/{made.json()['id']}", headers=key(stack, "water")).status_code == 404


def test_a_utility_key_may_not_pick_an_emergency(stack: Stack) -> None:
    event = {
        "event_id": "SVS-EMERGENCY-1",
        "category": "water",
        "severity": "emergency",
        "addresses": MASARYKOVA,
        "start": datetime.now(UTC).isoformat(),
    }
    answer = httpx.post(f"{stack.url('composer')}/v1/alerts", json=event, headers=key(stack, "water"))
    assert answer.status_code == 403 and "may not send emergencies" in answer.json()["detail"]


def test_a_preview_does_not_count_a_households_ukrainian_speakers(stack: Stack) -> None:
    target = {"address_points": [MASARYKOVA_12], "filters": {"languages": ["uk"]}}
    answer = httpx.post(
        f"{stack.url('composer')}/v1/targets/preview", json={"target": target}, headers=key(stack, "editor")
    )
    assert answer.status_code == 200 and answer.json()["subscribers"] == "fewer than 5"
    audit = httpx.get(f"{stack.url('composer')}/v1/audit", headers=key(stack, "admin")).json()
    assert audit[0]["action"] == "target.previewed" and audit[0]["actor"] == "Dev Editor"


def test_a_line_break_cannot_smuggle_a_header_into_an_email(stack: Stack) -> None:
    content = {"cs": {"email": {"subject": "Voda\r\nBcc: everyone@example.cz", "text": "x"}}}
    answer = httpx.post(
        f"{stack.url('composer')}/v1/messages",
        json={"severity": "info", "category": "water", "content": content, "target": MASARYKOVA},
        headers=key(stack, "editor"),
    )
    assert answer.status_code == 422 and "line breaks" in answer.text


def test_a_delivery_report_with_a_malformed_signature_is_refused_not_a_500(stack: Stack) -> None:
    answer = httpx.post(
        f"{stack.url('dispatch-sms')}/v1/callbacks/sms?delivery_id=x",
        data={"MessageStatus": "delivered"},
        headers={"X-Twilio-Signature": "žluťoučký kůň".encode()},
    )
    assert answer.status_code == 403


def quiet(stack: Stack) -> None:
    """Wait until nothing the city sent is still on its way to a provider."""

    def nothing_queued() -> bool:
        listed = httpx.get(f"{stack.url('composer')}/v1/messages", headers=key(stack, "admin")).json()
        return all(
            m["state"] not in ("approved", "sending")
            and not any(c.get("queued") for c in m["deliveries"].values())
            for m in listed
        )

    eventually(nothing_queued, timeout_s=120, what="every message settled")


def test_a_gateway_answering_html_fails_that_sms_and_the_lane_goes_on(stack: Stack) -> None:
    quiet(stack)
    gateway = f"http://127.0.0.1:{stack.config.ports.sms_gateway}"
    httpx.post(f"{gateway}/_fake/behaviour", json={"html_times": 1}).raise_for_status()
    try:
        first = settled(stack, send(stack, _water(), approver="approver"))
        second = settled(stack, send(stack, _water(), approver="approver"))
    finally:
        httpx.post(f"{gateway}/_fake/behaviour", json={}).raise_for_status()
    assert first["deliveries"]["sms"].get("failed", 0) == 1
    assert second["deliveries"]["sms"].get("failed", 0) == 0
    report = httpx.get(
        f"{stack.url('composer')}/v1/messages/{first['id']}/report", headers=key(stack, "editor")
    )
    assert report.status_code == 200


def test_an_erased_subscribers_queued_message_is_never_sent(stack: Stack) -> None:
    before = on_masarykova(stack)
    citizens = [verified(stack, f"+420777300{i:03d}") for i in range(12)]
    indexed(stack, before + 12)
    gateway = f"http://127.0.0.1:{stack.config.ports.sms_gateway}"
    # half a second an SMS, one at a time: the queue is still long when they are erased
    httpx.post(f"{gateway}/_fake/behaviour", json={"delay_ms": 500}).raise_for_status()
    try:
        message_id = send(stack, {"severity": "info", "category": "culture", "content": CONTENT,
                                  "target": MASARYKOVA})  # fmt: skip
        erased = citizens[6:]
        for citizen in erased:
            deleted = httpx.delete(
                f"{stack.url('registry')}/v1/subscribers/{citizen['id']}",
                headers={"Authorization": f"Bearer {citizen['access_token']}"},
            )
            assert deleted.status_code == 204
        erased_at = datetime.now(UTC).isoformat()
        message = settled(stack, message_id)
    finally:
        httpx.post(f"{gateway}/_fake/behaviour", json={}).raise_for_status()
    numbers = {c["contacts"][0]["value"] for c in erased}
    sent = [
        e for e in read_ledger(stack.config.ledger_dir / "sms.jsonl") if e.get("message_id") == message_id
    ]
    reached = {e["recipient"] for e in sent if e["recipient"] in numbers}
    # whoever was not handed over when the erasure reached the dispatcher was never sent it, and the
    # report says so
    cancelled = message["deliveries"]["sms"].get("cancelled", 0)
    timeline = [(e["received_at"][11:23], e["recipient"] in numbers) for e in sent]
    assert cancelled >= 1 and len(reached) + cancelled == len(erased), (erased_at, timeline)


def test_a_client_writing_its_own_forwarded_for_still_meets_its_limit(stack: Stack) -> None:
    answers = []
    for i in range(41):
        body = {
            "addresses": [{"address_point": MASARYKOVA_12}],
            "contacts": [{"channel": "push", "value": f"t-{i}"}],
        }
        answers.append(
            httpx.post(
                f"{stack.url('registry')}/v1/subscribers",
                json=body,
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
        )
        if answers[-1] == 429:
            break
    assert answers[-1] == 429, "the limit counted the address the client wrote, not its own"


def test_a_service_on_a_real_database_refuses_to_start_with_development_defaults(tmp_path: Path) -> None:
    started = subprocess.run(
        [console_script("composer"), "serve"],
        env=os.environ | {"COMPOSER_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "COMPOSER_SECRET_KEY" in started.stderr and "COMPOSER_ALLOW_INSECURE" in started.stderr


_CAP = {"Content-Type": "application/cap+xml"}


def _water() -> dict[str, Any]:
    return {"severity": "info", "category": "water", "content": CONTENT, "target": MASARYKOVA}


def _cap(identifier: str, msg_type: str, sent: datetime, *, references: str | None) -> bytes:
    expires = (sent + timedelta(hours=6)).isoformat()
    refs = f"<references>{references}</references>" if references else ""
    return f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>chmi@chmi.cz</sender><sent>{sent.isoformat()}</sent>
  <status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>{refs}
  <info><language>cs</language><category>Met</category><event>Silný vítr</event>
    <urgency>Immediate</urgency><severity>Moderate</severity><certainty>Likely</certainty>
    <expires>{expires}</expires>
    <area><areaDesc>Liberec</areaDesc><geocode><valueName>CISORP</valueName><value>5105</value></geocode></area>
  </info></alert>""".encode()

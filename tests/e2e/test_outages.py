"""The broker away and services killed or stopped, on a stack of its own (what the walking skeleton's
tests see is never a broker restarted under them): nothing committed is lost, a stopped service drains.
Each test leaves the stack whole (the broker and every service running) for the next, in any order."""

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from hlasatel_contracts import MESSAGE_CANCELLATIONS
from hlasatel_devstack.bus import read_topics
from hlasatel_devstack.demo import verify_contacts
from hlasatel_devstack.stack import Stack, StackConfig
from hlasatel_devstack.testing import eventually, stack_fixture

outages = stack_fixture("outages")

MASARYKOVA_12 = 23657235  # Masarykova 522/12
ZHORELECKA_5 = 23655640  # Zhořelecká 344/5


@pytest.fixture(scope="module")
def composer(outages: Stack) -> httpx.Client:
    editor = {"Authorization": f"Bearer {outages.keys['editor']}"}
    return httpx.Client(base_url=outages.url("composer"), timeout=10, headers=editor)


@pytest.fixture(scope="module")
def jana(outages: Stack, liberec_csv: Path) -> dict[str, Any]:
    """The gazetteer imported and one citizen on Masarykova, so that a message to the street has someone."""
    outages.import_register(liberec_csv)
    body = {
        "addresses": [{"address_point": MASARYKOVA_12}],
        "contacts": [{"channel": "email", "value": "jana@example.cz"}],
    }
    created: dict[str, Any] = httpx.post(
        f"{outages.url('registry')}/v1/subscribers", json=body, timeout=10
    ).json()
    verify_contacts(outages.url("registry"), outages.config.ledger_dir, created)
    return created


def subscribers_at(composer: httpx.Client, address_point: int) -> int:
    answer = composer.post("/v1/targets/preview", json={"target": {"address_points": [address_point]}})
    return int(answer.json()["subscribers"]) if answer.status_code == 200 else 0


def test_a_change_committed_while_the_broker_is_down_arrives_after_a_crash(
    outages: Stack, composer: httpx.Client, jana: dict[str, Any]
) -> None:
    eva = {
        "addresses": [{"address_point": ZHORELECKA_5}],
        "contacts": [{"channel": "push", "value": "push-eva"}],
    }
    outages.broker.stop()
    registered = httpx.post(f"{outages.url('registry')}/v1/subscribers", json=eva, timeout=10)
    assert registered.status_code == 201  # committed with its outbox row
    outages.stop_service("registry", signal.SIGKILL)  # dies before it could publish
    outages.broker.start()  # an empty broker: the embedded one keeps nothing
    outages.start_service("registry")
    outages.wait_ready("registry")
    eventually(
        lambda: subscribers_at(composer, ZHORELECKA_5) == 1,
        what="Eva's registration reached the composer after the registry's restart",
        timeout_s=90,
    )


def test_a_cancellation_committed_while_the_broker_is_down_reaches_the_dispatchers_after_a_crash(
    outages: Stack, composer: httpx.Client, jana: dict[str, Any]
) -> None:
    message = {
        "severity": "info",
        "category": "water",
        "content": {"cs": {"email": {"subject": "Odstávka vody", "text": "Zítra 8–14 h nepoteče voda."}}},
        "target": {"streets": [{"name": "Masarykova"}]},
    }
    made = composer.post("/v1/messages", json=message)
    assert made.status_code == 201, made.text
    approver = {"Authorization": f"Bearer {outages.keys['approver']}"}
    message_id = made.json()["id"]
    approved = composer.post(f"/v1/messages/{message_id}/approve", headers=approver)
    assert approved.status_code == 200, approved.text
    outages.broker.stop()
    cancelled = composer.post(f"/v1/messages/{message_id}/cancel", headers=approver)
    assert cancelled.status_code == 200, cancelled.text  # committed with its outbox row, not yet told
    outages.stop_service("composer", signal.SIGKILL)  # dies before it could publish
    outages.broker.start()  # an empty broker: the embedded one keeps nothing
    outages.start_service("composer")
    outages.wait_ready("composer")
    bootstrap = f"127.0.0.1:{outages.config.ports.broker}"
    told = asyncio.run(read_topics(bootstrap, [MESSAGE_CANCELLATIONS], quiet_s=5.0))
    assert [json.loads(r.value)["message_id"] for r in told] == [message_id]


def test_services_drain_on_sigterm_and_report_an_absent_broker(outages: Stack) -> None:
    config: StackConfig = outages.config
    try:
        # uvicorn drains, then re-raises SIGTERM: the exit status says what stopped it (143 in Kubernetes)
        assert outages.stop_service("dispatch-sms", signal.SIGTERM) in (0, -signal.SIGTERM)
        log = (config.log_dir / "dispatch-sms.log").read_text()
        assert log.index("dispatch-sms stopping: finishing in-flight work") < log.index(
            "dispatch-sms stopped"
        )
    finally:
        outages.start_service("dispatch-sms")
        outages.wait_ready("dispatch-sms")
    outages.broker.stop()
    try:
        readiness = httpx.get(f"{outages.url('registry')}/readyz", timeout=10)
        assert readiness.status_code == 503
        assert readiness.json()["checks"] == {"database": True, "broker": False}
    finally:
        outages.broker.start()  # so that the other services can hand back their partitions and stop quickly
    for service in ("registry", "dispatch-sms"):
        eventually(
            lambda service=service: (
                httpx.get(f"{outages.url(service)}/readyz", timeout=10).status_code == 200
            ),
            what=f"{service} ready again once the broker is back",
        )

"""The broker restarted in the middle of a whole-city emergency, with every service running.

The embedded broker keeps its log in memory, so the restart loses every delivery request and status that
was on it. The composer notices the deliveries that never got a status and publishes them again with the
same ids (reconciliation, `COMPOSER_REDRIVE_AFTER_S`); the dispatchers' ledgers send only what they had
not sent. Checked from the fakes' ledgers: every targeted contact got exactly one message, nobody else
got anything, and the composer's report accounts for every delivery.

`HLASATEL_CHAOS_RECIPIENTS` sets the size (1,000 subscribers in `make test`; the issue's 20,000 by hand).
"""

import asyncio
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from hlasatel_contracts import SUBSCRIBERS, Channel
from hlasatel_devstack.bus import publish_keyed
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually, stack_fixture
from hlasatel_registry.domain.coordinates import address_points
from hlasatel_registry.domain.gazetteer import read_file

pytestmark = pytest.mark.e2e

RECIPIENTS = int(os.environ.get("HLASATEL_CHAOS_RECIPIENTS", "1000"))
SERVICES = ["composer", "dispatch-sms", "dispatch-email", "dispatch-push"]
EMERGENCY = {
    "severity": "emergency",
    "category": "safety",
    "target": {"city": True},
    "content": {
        "cs": {
            "sms": "Liberec: únik chlóru. Zůstaňte doma a zavřete okna.",
            "email": {"subject": "Únik chlóru", "text": "Zůstaňte doma, zavřete okna a vypněte větrání."},
            "push": {"title": "Únik chlóru", "body": "Zůstaňte doma a zavřete okna."},
        }
    },
}

# dispatchers slow enough that much is still on the bus when it restarts; a quick reconciliation
restarted = stack_fixture(
    "restarted",
    SERVICES,
    {
        "COMPOSER_REDRIVE_AFTER_S": "15",
        "COMPOSER_REDRIVE_POLL_S": "2",
        **{f"DISPATCH_{c.value.upper()}_RATE_PER_S": "40" for c in Channel},
    },
)


def test_a_broker_restart_loses_nothing_and_repeats_nothing(restarted: Stack, liberec_csv: Path) -> None:
    stack = restarted
    population = list(subscribers(address_points(read_file(liberec_csv)), RECIPIENTS, random.Random(7)))
    expected = Counter((c.channel.value, c.value) for s in population for c in s.contacts)
    asyncio.run(
        publish_keyed(
            stack.broker.bootstrap_servers,
            SUBSCRIBERS,
            ((str(s.subscriber_id).encode(), s) for s in population),
        )
    )
    editor = httpx.Client(base_url=stack.url("composer"), timeout=30, headers=_bearer(stack, "editor"))
    eventually(
        lambda: _preview(editor)["subscribers"] == RECIPIENTS,
        timeout_s=120,
        what="the composer indexed the changelog",
    )
    message_id = editor.post("/v1/messages", json=EMERGENCY).json()["id"]
    approved = editor.post(f"/v1/messages/{message_id}/approve", headers=_bearer(stack, "approver"))
    assert approved.status_code == 200, approved.text

    at_restart = eventually(
        lambda: (n := sum(_received(stack, message_id).values())) >= sum(expected.values()) // 4 and n,
        timeout_s=120,
        what="a quarter of the messages at the fakes",
    )
    stack.broker.stop()
    stack.broker.start()

    def settled() -> dict[str, Any] | None:
        message: dict[str, Any] = editor.get(f"/v1/messages/{message_id}").json()
        waiting = sum(states.get("queued", 0) for states in message["deliveries"].values())
        return message if waiting == 0 and message["state"] == "done" else None

    message = eventually(
        settled,
        timeout_s=300,
        interval_s=2,
        what="every delivery reported after the restart",
        detail=lambda: editor.get(f"/v1/messages/{message_id}").json()["deliveries"],
    )
    assert at_restart < sum(expected.values()), "the broker restarted after everything had gone out"
    received = _received(stack, message_id)
    assert set(received) == set(expected), "every targeted contact, and nobody else"
    assert received == expected, "exactly one message per contact"
    per_channel = Counter(channel for channel, _ in expected.elements())
    reported = {channel: sum(states.values()) for channel, states in message["deliveries"].items()}
    assert reported == dict(per_channel)
    assert all(set(states) <= {"accepted", "delivered"} for states in message["deliveries"].values())
    # what the restart lost came back through reconciliation, not by luck
    metrics = httpx.get(f"{stack.url('composer')}/metrics", timeout=10).text
    redriven = next(
        line for line in metrics.splitlines() if line.startswith("hlasatel_composer_redriven_total")
    )
    assert float(redriven.split()[-1]) > 0


def _received(stack: Stack, message_id: str) -> Counter[tuple[str, str]]:
    return Counter(
        (channel.value, entry["recipient"])
        for channel in Channel
        for entry in read_ledger(stack.config.ledger_dir / f"{channel.value}.jsonl")
        if entry.get("message_id") == message_id
    )


def _bearer(stack: Stack, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.keys[role]}"}


def _preview(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/v1/targets/preview", json={"target": {"city": True}})
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result

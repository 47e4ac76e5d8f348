"""kill -9 of the composer in the middle of a 20,000-recipient fan-out, through the real broker.

The composer runs as its own process on the embedded broker and learns its 20,000 subscribers from the
changelog (`HLASATEL_CHAOS_RECIPIENTS` sets another number). A whole-city emergency is approved, the
composer is killed with SIGKILL while it fans out, and started again. Read back from the delivery topics,
every subscriber has exactly one delivery per channel they can be reached on, and nobody else has any. A
crash may repeat the batch that was in flight (with the same delivery ids, which the dispatchers' ledgers
refuse to send twice), never more.
"""

import asyncio
import json
import random
import signal
from collections import defaultdict
from typing import Any
from uuid import UUID

import httpx

from hlasatel_contracts import LANES_BY_PRIORITY, SUBSCRIBERS, AddressPoint, Channel, delivery_topic
from hlasatel_devstack.bus import publish_keyed, read_topics
from hlasatel_devstack.chaos import EMERGENCY, chaos_recipients
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually, production_backend, stack_fixture

RECIPIENTS = chaos_recipients(20_000)
FANOUT_BATCH = 1_000
# a fresh broker and the composer alone: nothing consumes the delivery topics but the test
composer_alone = stack_fixture(
    "composer_alone",
    ["composer"],
    {"COMPOSER_FANOUT_BATCH_SIZE": str(FANOUT_BATCH)},
    backends=production_backend(),
)


def test_a_composer_killed_mid_fan_out_resumes_and_everyone_gets_one_delivery_per_channel(
    composer_alone: Stack, liberec: list[AddressPoint]
) -> None:
    stack = composer_alone
    bootstrap = stack.broker.bootstrap_servers
    population = list(subscribers(liberec, RECIPIENTS, random.Random(4)))
    expected = {(s.subscriber_id, c.channel): c.contact_id for s in population for c in s.contacts}
    asyncio.run(
        publish_keyed(bootstrap, SUBSCRIBERS, ((str(s.subscriber_id).encode(), s) for s in population))
    )

    editor = httpx.Client(base_url=stack.url("composer"), timeout=30, headers=_bearer(stack, "editor"))
    eventually(
        lambda: _preview(editor)["subscribers"] == RECIPIENTS,
        timeout_s=180,
        interval_s=3,  # a whole-city preview takes a while: leave the index time to work
        what="the composer indexed the whole changelog",
        detail=lambda: _preview(editor)["subscribers"],
    )
    message_id = editor.post("/v1/messages", json=EMERGENCY).json()["id"]
    approved = editor.post(f"/v1/messages/{message_id}/approve", headers=_bearer(stack, "approver"))
    assert approved.status_code == 200, approved.text

    at_kill = eventually(
        lambda: (n := _queued(editor, message_id)) >= len(expected) // 4 and n,
        timeout_s=180,
        what="a quarter of the deliveries recorded",
        detail=lambda: _queued(editor, message_id),
    )
    stack.stop_service("composer", signal.SIGKILL)
    stack.start_service("composer")
    stack.wait_ready("composer")
    eventually(
        lambda: editor.get(f"/v1/messages/{message_id}").json()["state"] == "done",
        timeout_s=300,
        what="the restarted composer finished the fan-out",
        detail=lambda: _queued(editor, message_id),
    )
    assert at_kill < len(expected), "the composer was killed before it had finished"

    channel_of = {delivery_topic(channel, lane): channel for channel in Channel for lane in LANES_BY_PRIORITY}
    records = asyncio.run(read_topics(bootstrap, list(channel_of), at_least=len(expected)))
    ids_by_recipient: dict[tuple[UUID, Channel], set[str]] = defaultdict(set)
    for record in records:
        request = json.loads(record.value)
        recipient = (UUID(request["subscriber_id"]), channel_of[record.topic])
        assert UUID(request["contact_id"]) == expected.get(recipient), "a delivery to someone not targeted"
        ids_by_recipient[recipient].add(request["delivery_id"])
    assert set(ids_by_recipient) == set(expected), "every subscriber on every channel they have"
    assert all(len(ids) == 1 for ids in ids_by_recipient.values()), "one delivery per subscriber and channel"
    # the batch in flight at the kill may go out again with the same ids; nothing more is repeated
    assert len(records) - len(expected) <= FANOUT_BATCH * len(Channel)

    message = editor.get(f"/v1/messages/{message_id}").json()
    per_channel = {channel.value: sum(1 for _, c in expected if c is channel) for channel in Channel}
    assert {channel: sum(states.values()) for channel, states in message["deliveries"].items()} == per_channel


def _bearer(stack: Stack, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.keys[role]}"}


def _preview(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/v1/targets/preview", json={"target": {"city": True}})
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def _queued(client: httpx.Client, message_id: str) -> int:
    deliveries = client.get(f"/v1/messages/{message_id}").json()["deliveries"]
    return sum(count for states in deliveries.values() for count in states.values())

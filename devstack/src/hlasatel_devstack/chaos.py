"""What the fault tests share: a city of subscribers on the changelog, a whole-city emergency approved
through the composer's API, and what the fakes' ledgers say each contact got.

The invariant every fault test ends with: every targeted contact got exactly one message on each of its
channels, and nobody else got anything. "One message" is what the recipient sees: the SMS gateway keeps
one SMS per Idempotency-Key, so its ledger must hold each SMS once; an SMTP relay and FCM cannot tell a
repeat, so a call they took but did not answer in time may arrive twice, with the same Message-ID or
notification tag, which a mailbox and a phone show as one message.
"""

import asyncio
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from hlasatel_contracts import SUBSCRIBERS, Channel, SubscriberChanged
from hlasatel_devstack.bus import publish_keyed
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually

# what a recipient's side recognises a repeat by
REPEAT_KEY = {Channel.SMS: "sid", Channel.EMAIL: "smtp_message_id", Channel.PUSH: "tag"}

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

Recipient = tuple[str, str]  # channel, contact
UNFINISHED = ("queued", "retrying")  # a delivery's states in the composer's report before a final one


def chaos_recipients(default: int) -> int:
    """The size of a fault test: `default` in `make test`, HLASATEL_CHAOS_RECIPIENTS when set."""
    return int(os.environ.get("HLASATEL_CHAOS_RECIPIENTS", str(default)))


class CityEmergency:
    """A city of subscribers (`hlasatel_devstack.population`), and one whole-city emergency to them."""

    def __init__(self, stack: Stack, population: Sequence[SubscriberChanged]) -> None:
        self.stack = stack
        self.population = population
        self.expected = Counter((c.channel.value, c.value) for s in self.population for c in s.contacts)
        self.editor = httpx.Client(base_url=stack.url("composer"), timeout=30, headers=self._bearer("editor"))
        self.message_id = ""

    def _bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stack.keys[role]}"}

    def subscribe(self) -> None:
        """Publish the subscribers on the changelog and wait until the composer can reach them all."""
        asyncio.run(
            publish_keyed(
                self.stack.broker.bootstrap_servers,
                SUBSCRIBERS,
                ((str(s.subscriber_id).encode(), s) for s in self.population),
            )
        )
        eventually(
            lambda: self._reach() == len(self.population),
            timeout_s=180,
            interval_s=1,
            what="the composer indexed the changelog",
            detail=self._reach,
        )

    def _reach(self) -> int:
        response = self.editor.post("/v1/targets/preview", json={"target": {"city": True}})
        response.raise_for_status()
        count: int = response.json()["subscribers"]
        return count

    def approve(self) -> None:
        """Write the emergency as the editor and approve it as the approver: the fan-out starts."""
        created = self.editor.post("/v1/messages", json=EMERGENCY)
        assert created.status_code == 201, created.text
        self.message_id = created.json()["id"]
        approver = self._bearer("approver")
        approved = self.editor.post(f"/v1/messages/{self.message_id}/approve", headers=approver)
        assert approved.status_code == 200, approved.text

    @property
    def deliveries(self) -> int:
        return sum(self.expected.values())

    def at_the_fakes(self) -> int:
        """How many of the emergency's messages the fakes have taken so far, repeats included."""
        return sum(self.received().values())

    def wait_for_share(self, share: float, timeout_s: float = 600) -> int:
        """Wait until `share` of the deliveries reached the fakes; returns how many had."""
        wanted = int(self.deliveries * share)
        reached: int = eventually(
            lambda: (n := self.at_the_fakes()) >= wanted and n,
            timeout_s=timeout_s,
            interval_s=0.5,
            what=f"{wanted} of {self.deliveries} messages at the fakes",
            detail=self.at_the_fakes,
        )
        assert reached < self.deliveries, "everything had gone out already: the fault came too late"
        return reached

    def report(self) -> dict[str, Any]:
        message: dict[str, Any] = self.editor.get(f"/v1/messages/{self.message_id}").json()
        return message

    def wait_until_reported(self, timeout_s: float | None = None) -> dict[str, Any]:
        """Wait until the composer has a final status for every delivery (by default as long as 40
        deliveries a second, and at least 5 minutes, take); returns its report."""
        timeout_s = timeout_s or max(300, self.deliveries / 40)

        def settled() -> dict[str, Any] | None:
            message = self.report()
            waiting = sum(
                states.get(state, 0) for states in message["deliveries"].values() for state in UNFINISHED
            )
            return message if waiting == 0 and message["state"] == "done" else None

        report: dict[str, Any] = eventually(
            settled,
            timeout_s=timeout_s,
            interval_s=2,
            what="a final status for every delivery",
            detail=lambda: self.report()["deliveries"],
        )
        return report

    def _entries(self) -> list[tuple[Channel, dict[str, Any]]]:
        ledgers = {channel: self.stack.config.ledger_dir / f"{channel.value}.jsonl" for channel in Channel}
        return [
            (channel, entry)
            for channel, path in ledgers.items()
            for entry in read_ledger(path)
            if entry.get("message_id") == self.message_id
        ]

    def received(self) -> Counter[Recipient]:
        """What the fakes took of the emergency, per channel and contact, repeats included."""
        return Counter((channel.value, entry["recipient"]) for channel, entry in self._entries())

    def check_everyone_got_one(self) -> Counter[str]:
        """The invariant, from the fakes' ledgers and the composer's report; returns the repeats per channel
        (calls a provider took twice under the same Message-ID or notification tag)."""
        seen: dict[Recipient, set[str]] = defaultdict(set)
        received: Counter[Recipient] = Counter()
        for channel, entry in self._entries():
            recipient = (channel.value, entry["recipient"])
            seen[recipient].add(entry[REPEAT_KEY[channel]])
            received[recipient] += 1
        assert set(seen) == set(self.expected), "every targeted contact, and nobody else"
        assert all(len(keys) == 1 for keys in seen.values()), "one message per contact, as its owner sees it"
        repeats = Counter(
            channel for (channel, _), count in (received - self.expected).items() for _ in range(count)
        )
        assert repeats[Channel.SMS.value] == 0, "the gateway holds each SMS once"
        report = self.report()["deliveries"]
        per_channel = Counter(channel for channel, _ in self.expected.elements())
        assert {channel: sum(states.values()) for channel, states in report.items()} == dict(per_channel)
        assert all(set(states) <= {"accepted", "delivered"} for states in report.values()), report
        return repeats

    def repeats_received_at(self) -> dict[str, list[datetime]]:
        """When each repeat reached its fake, per channel: every copy of a message after its first."""
        copies: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for channel, entry in self._entries():
            copy = datetime.fromisoformat(entry["received_at"])
            copies[(channel.value, entry[REPEAT_KEY[channel]])].append(copy)
        later: dict[str, list[datetime]] = defaultdict(list)
        for (name, _), times in copies.items():
            later[name] += sorted(times)[1:]
        return later


def metric(stack: Stack, service: str, name: str) -> float:
    """A Prometheus counter of one service, summed over its labels."""
    text = httpx.get(f"{stack.url(service)}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and (line[len(name)] in " {")
    )

"""A dispatcher served from a thread on the embedded broker, and the composer's side of the bus: publish its
requests, read back its statuses and dead letters. For the dispatchers' fault tests."""

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from hlasatel_contracts import (
    DEAD_LETTER,
    DELIVERY_STATUS,
    Channel,
    DeliveryRequest,
    DeliveryState,
    DeliveryStatusChanged,
    Lane,
    SendEmail,
    SendPush,
    SendSms,
    delivery_topic,
)
from hlasatel_devstack.bus import read_until
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.testing import quick_kafka, serve_in_thread
from hlasatel_runtime.kafka import build_broker

Statuses = Callable[[list[DeliveryStatusChanged]], bool]


def finals(count: int) -> Statuses:
    """`count` deliveries have a status that is not a retryable failure."""
    return lambda statuses: len({s.delivery_id for s in statuses if not s.retryable}) >= count


def common_fields(message_id: UUID, lane: Lane = Lane.BULK) -> dict[str, Any]:
    """Everything a delivery request has besides its channel's content."""
    return {
        "delivery_id": uuid.uuid4(),
        "message_id": message_id,
        "subscriber_id": uuid.uuid4(),
        "contact_id": uuid.uuid4(),
        "lane": lane,
        "category": "water",
        "requested_at": datetime.now(UTC),
    }


def sample_requests(channel: Channel, count: int, lane: Lane = Lane.BULK) -> list[DeliveryRequest]:
    """`count` requests of one channel, each to a contact of its own, as a fan-out would publish them."""
    made: list[DeliveryRequest] = []
    for number in range(count):
        common = common_fields(uuid.uuid4(), lane)
        if channel is Channel.SMS:
            made.append(SendSms(**common, to=f"+420{700_000_000 + number}", text="Liberec: odstávka vody"))
        elif channel is Channel.EMAIL:
            made.append(
                SendEmail(**common, to=f"obcan.{number}@example.org", subject="Odstávka", text="Zítra 8–14 h")
            )
        else:
            made.append(
                SendPush(**common, token=f"device-{number:07d}", title="Odstávka", body="Zítra 8–14 h")
            )
    return made


def received(ledger: Path, message_id: UUID) -> list[dict[str, Any]]:
    """What a fake's ledger holds of one message."""
    return [entry for entry in read_ledger(ledger) if entry["message_id"] == str(message_id)]


@dataclass
class HttpFake:
    """A provider fake served over HTTP: told how to behave, read back from its ledger."""

    url: str
    ledger: Path

    async def behave(self, **behaviour: Any) -> None:
        async with httpx.AsyncClient(base_url=self.url) as client:
            (await client.post("/_fake/behaviour", json=behaviour)).raise_for_status()

    def received(self, message_id: UUID) -> list[dict[str, Any]]:
        return received(self.ledger, message_id)


@dataclass
class OnTheBus:
    channel: Channel
    publisher: KafkaBroker
    bootstrap: str
    url: str  # where the dispatcher serves HTTP

    async def publish(self, request: DeliveryRequest) -> DeliveryRequest:
        topic = delivery_topic(self.channel, request.lane)
        await self.publisher.publish(request, topic, key=str(request.subscriber_id).encode())
        return request

    async def publish_poison(self, marker: UUID, lane: Lane = Lane.BULK) -> None:
        """A record no dispatcher can read (its delivery id is no UUID), carrying `marker` to find it by."""
        poison = {"type": f"send_{self.channel.value}", "delivery_id": "not a uuid", "poison": str(marker)}
        await self.publisher.publish(
            json.dumps(poison).encode(), delivery_topic(self.channel, lane), key=b"x"
        )

    async def statuses(self, message_id: UUID, until: Statuses) -> list[DeliveryStatusChanged]:
        """Every status of the message, in order, once `until` is satisfied."""

        def mine(records: list[Any]) -> list[DeliveryStatusChanged]:
            statuses = (DeliveryStatusChanged.model_validate_json(record.value) for record in records)
            return [status for status in statuses if status.message_id == message_id]

        return mine(await read_until(self.bootstrap, [DELIVERY_STATUS], lambda records: until(mine(records))))

    async def dead_letter(self, marker: str) -> dict[str, Any]:
        """The one dead letter whose original record contains `marker`."""
        letters = await read_until(
            self.bootstrap, [DEAD_LETTER], lambda records: any(marker in _original(r.value) for r in records)
        )
        (letter,) = [json.loads(r.value) for r in letters if marker in _original(r.value)]
        found: dict[str, Any] = letter
        return found


def _original(value: bytes) -> str:
    """The original record a dead letter carries, decoded."""
    return base64.b64decode(json.loads(value)["value"]).decode(errors="replace")


@contextlib.asynccontextmanager
async def on_the_bus(
    channel: Channel, app: FastAPI, kafka_bootstrap: str, port: int | None = None
) -> AsyncIterator[OnTheBus]:
    """The dispatcher's app served (its consumers started with it), and a publisher as the composer's."""
    publisher = build_broker(quick_kafka(kafka_bootstrap), client_id="test-composer")
    with serve_in_thread(app, port) as url:
        async with publisher:
            await publisher.start()
            yield OnTheBus(channel, publisher, kafka_bootstrap, url)


# The same scenarios for every channel: the test names the fakes and how to break them.

Send = Callable[[UUID], Awaitable[DeliveryRequest]]
Act = Callable[[], Awaitable[None]]


class Receiving(Protocol):
    def received(self, message_id: UUID) -> list[dict[str, Any]]: ...


async def fails_over_and_back(
    bus: OnTheBus,
    *,
    send: Send,
    primary: Receiving,
    secondary: Receiving,
    break_primary: Act,
    mend_primary: Act,
    providers: tuple[str, str],
    reset_s: float,
) -> None:
    """While the first account fails every call, deliveries go to the second; once it is mended and its
    circuit's reset time has passed, the next delivery is its trial and goes to the first again."""
    message_id = uuid.uuid4()
    await break_primary()
    during = [await send(message_id) for _ in range(5)]
    statuses = await bus.statuses(message_id, finals(5))
    accepted = {s.delivery_id: s.provider for s in statuses if s.state is DeliveryState.ACCEPTED}
    assert set(accepted) == {request.delivery_id for request in during}
    assert set(accepted.values()) == {providers[1]}
    assert len(secondary.received(message_id)) == 5 and primary.received(message_id) == []

    await mend_primary()
    await asyncio.sleep(reset_s + 0.5)
    after = await send(message_id)
    statuses = await bus.statuses(message_id, finals(6))
    handed = [s for s in statuses if s.delivery_id == after.delivery_id and s.state is DeliveryState.ACCEPTED]
    assert [s.provider for s in handed] == [providers[0]]
    assert [entry["delivery_id"] for entry in primary.received(message_id)] == [str(after.delivery_id)]


async def waits_out_retry_after(bus: OnTheBus, *, send: Send, fake: HttpFake, reason: str) -> None:
    """A 429 with Retry-After 2 s: the delivery is reported failed for now with `reason`, and sent once,
    no sooner than asked."""
    message_id = uuid.uuid4()
    await fake.behave(fail_status=429, fail_times=1, retry_after_s=2)
    await send(message_id)
    limited, accepted = (await bus.statuses(message_id, finals(1)))[:2]
    assert (limited.state, limited.retryable, limited.reason) == (DeliveryState.FAILED, True, reason)
    assert accepted.state is DeliveryState.ACCEPTED
    assert (accepted.occurred_at - limited.occurred_at).total_seconds() >= 2
    assert len(fake.received(message_id)) == 1


async def goes_on_after_poison(bus: OnTheBus, *, send: Send, lane: Lane = Lane.BULK) -> None:
    """A record nobody can read is dead-lettered with the reason, and the lane goes on with the next."""
    message_id = uuid.uuid4()
    await bus.publish_poison(message_id, lane)
    await send(message_id)
    accepted = (await bus.statuses(message_id, finals(1)))[0]  # a delivery report may follow
    letter = await bus.dead_letter(str(message_id))
    assert accepted.state is DeliveryState.ACCEPTED
    assert letter["service"] == f"dispatch-{bus.channel.value}" and "delivery_id" in letter["reason"]

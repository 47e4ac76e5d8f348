"""A dispatcher served from a thread on the embedded broker, and the composer's side of the bus: publish its
requests, read back its statuses and dead letters. For the dispatchers' fault tests."""

import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from hlasatel_contracts import (
    DEAD_LETTER,
    DELIVERY_STATUS,
    Channel,
    DeliveryRequest,
    DeliveryStatusChanged,
    Lane,
    SendEmail,
    SendPush,
    SendSms,
    delivery_topic,
)
from hlasatel_devstack.bus import read_until
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.testing import serve_in_thread
from hlasatel_runtime.kafka import build_broker
from hlasatel_runtime.settings import KafkaSettings

Statuses = Callable[[list[DeliveryStatusChanged]], bool]


def quick_kafka(bootstrap: str) -> KafkaSettings:
    """Settings that join the embedded broker's groups in well under a second."""
    return KafkaSettings(bootstrap_servers=bootstrap, session_timeout_ms=2000, heartbeat_interval_ms=500)


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

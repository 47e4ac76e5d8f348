"""dispatch-push through the real broker into fake FCM endpoints that answer every error on request: tokens
that are gone or malformed, a refused payload, QUOTA_EXCEEDED / UNAVAILABLE / INTERNAL retried, a 429
with Retry-After, FCM down (failover to the second project and back), and a poison record."""

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from hlasatel_contracts import Channel, DeliveryState, Lane, SendPush
from hlasatel_devstack.dispatching import (
    HttpFake,
    OnTheBus,
    common_fields,
    fails_over_and_back,
    finals,
    goes_on_after_poison,
    on_the_bus,
    waits_out_retry_after,
)
from hlasatel_devstack.fakes.fcm import fcm_app, write_service_account
from hlasatel_devstack.fakes.ledger import Ledger
from hlasatel_devstack.ports import free_port
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import quick_kafka, serve_in_thread
from hlasatel_dispatch_push.bootstrap import bootstrap
from hlasatel_dispatch_push.config import FirebaseProject, Settings


@dataclass
class Fcm(HttpFake):
    credentials: Path


@contextlib.contextmanager
def fake_fcm(folder: Path, project_id: str) -> Iterator[Fcm]:
    """A fake FCM on a port of its own, and a service-account key of the project whose token_uri is it."""
    port = free_port()
    credentials = folder / f"{project_id}.json"
    account = write_service_account(
        credentials, token_uri=f"http://127.0.0.1:{port}/token", project_id=project_id
    )
    ledger = Ledger(folder / f"{project_id}.jsonl")
    with serve_in_thread(fcm_app(ledger=ledger, service_account=account), port=port) as url:
        yield Fcm(url, ledger.path, credentials)


@dataclass
class Running(OnTheBus):
    """dispatch-push on the bus, with its two Firebase projects."""

    primary: Fcm
    secondary: Fcm

    async def request(self, message_id: UUID, token: str = "device-1", **content: Any) -> SendPush:
        fields: dict[str, Any] = {"title": "Odstávka vody", "body": "Zítra 8–14 h"} | content
        push = SendPush(**common_fields(message_id, Lane.EMERGENCY), token=token, **fields)
        await self.publish(push)
        return push


@contextlib.asynccontextmanager
async def running(
    database_url: str, kafka_bootstrap: str, tmp_path: Path, **settings: Any
) -> AsyncIterator[Running]:
    with fake_fcm(tmp_path, "liberec") as primary, fake_fcm(tmp_path, "liberec-backup") as secondary:
        app = bootstrap(
            Settings(
                allow_insecure=ON_LOOPBACK,
                database_url=database_url,
                accounts=[
                    FirebaseProject(credentials_file=str(primary.credentials), fcm_endpoint=primary.url),
                    FirebaseProject(credentials_file=str(secondary.credentials), fcm_endpoint=secondary.url),
                ],
                kafka=quick_kafka(kafka_bootstrap),
                retry_poll_s=0.1,
                **settings,
            )
        )
        async with on_the_bus(Channel.PUSH, app, kafka_bootstrap) as bus:
            yield Running(**vars(bus), primary=primary, secondary=secondary)


async def test_each_fcm_error_class_has_its_outcome(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    message_id = uuid.uuid4()
    options = {"retry_base_s": 0.05, "retry_max_attempts": 2, "breaker_failures": 100}
    async with running(database_url, kafka_bootstrap, tmp_path, **options) as bus:
        sent = {
            "ok": await bus.request(message_id),
            "gone": await bus.request(message_id, token="unregistered-1"),
            "malformed": await bus.request(message_id, token="invalid-1"),
            "too large": await bus.request(message_id, data={"detail": "x" * 5000}),
            "quota": await bus.request(message_id, token="quota-1"),
            "unavailable": await bus.request(message_id, token="unavailable-1"),
            "internal": await bus.request(message_id, token="internal-1"),
        }
        statuses = await bus.statuses(message_id, finals(len(sent)))
        letter = await bus.dead_letter(str(sent["quota"].delivery_id))
    seen = {name: [s for s in statuses if s.delivery_id == r.delivery_id] for name, r in sent.items()}
    final = {name: (found[-1].state, found[-1].reason) for name, found in seen.items()}
    assert final["ok"] == (DeliveryState.ACCEPTED, None)
    assert final["gone"] == (DeliveryState.CONTACT_INVALID, "FCM NOT_FOUND (UnregisteredError)")
    assert final["malformed"] == (
        DeliveryState.CONTACT_INVALID,
        "FCM INVALID_ARGUMENT (InvalidArgumentError): not a valid registration token",
    )
    assert final["too large"] == (
        DeliveryState.FAILED,
        "FCM INVALID_ARGUMENT (InvalidArgumentError): the message was refused",
    )
    for name in ("quota", "unavailable", "internal"):  # tried again, then given up
        assert [(s.state, s.retryable) for s in seen[name]] == [
            (DeliveryState.FAILED, True),
            (DeliveryState.FAILED, False),
        ]
        assert (seen[name][-1].reason or "").startswith("gave up after 2 attempts: FCM ")
    assert letter["reason"] == seen["quota"][-1].reason and letter["service"] == "dispatch-push"
    assert [e["delivery_id"] for e in bus.primary.received(message_id)] == [str(sent["ok"].delivery_id)]


async def test_a_429_is_retried_no_sooner_than_retry_after_and_sent_once(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with running(database_url, kafka_bootstrap, tmp_path, retry_base_s=0.05) as bus:
        reason = "FCM RESOURCE_EXHAUSTED (QuotaExceededError)"
        await waits_out_retry_after(bus, send=bus.request, fake=bus.primary, reason=reason)


async def test_fcm_down_moves_notifications_to_the_second_project_and_back_when_it_recovers(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    options = {"retry_base_s": 0.05, "breaker_failures": 2, "breaker_reset_s": 2}
    async with running(database_url, kafka_bootstrap, tmp_path, **options) as bus:
        await fails_over_and_back(
            bus,
            send=bus.request,
            primary=bus.primary,
            secondary=bus.secondary,
            break_primary=lambda: bus.primary.behave(fail_status=503, fail_times=-1),
            mend_primary=bus.primary.behave,
            providers=("fcm", "fcm-2"),
            reset_s=2,
        )


async def test_a_poison_record_is_dead_lettered_and_the_lane_goes_on(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with running(database_url, kafka_bootstrap, tmp_path) as bus:
        await goes_on_after_poison(bus, send=bus.request, lane=Lane.EMERGENCY)

"""dispatch-email through the real broker into SMTP servers that refuse, stall or go away: a mailbox that
does not exist, a refused message, a 4xx tried again, a relay down (failover to the second and back), and a
poison record."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from aiosmtpd.controller import Controller

from hlasatel_contracts import Channel, DeliveryState, SendEmail
from hlasatel_devstack.dispatching import (
    OnTheBus,
    common_fields,
    fails_over_and_back,
    finals,
    goes_on_after_poison,
    on_the_bus,
    received,
)
from hlasatel_devstack.fakes.ledger import Ledger
from hlasatel_devstack.fakes.smtp import UNKNOWN_MAILBOX, Behaviour, LedgerHandler, smtp_server
from hlasatel_devstack.ports import free_port
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import quick_kafka
from hlasatel_dispatch_email.bootstrap import bootstrap
from hlasatel_dispatch_email.config import Relay, Settings


class Relays:
    """An SMTP server that can be told to refuse, and be stopped and started again on its port."""

    def __init__(self, ledger: Path) -> None:
        self.port = free_port()
        self.ledger = ledger
        self.handler = LedgerHandler(Ledger(ledger))
        self.server: Controller | None = None

    async def start(self) -> None:
        self.server = smtp_server(ledger=self.handler.ledger, port=self.port, handler=self.handler)
        self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def behave(self, **behaviour: Any) -> None:
        self.handler.behaviour = Behaviour(**behaviour)

    def received(self, message_id: UUID) -> list[dict[str, Any]]:
        return received(self.ledger, message_id)


@dataclass
class Running(OnTheBus):
    """dispatch-email on the bus, with its two relays."""

    primary: Relays
    secondary: Relays

    async def request(self, message_id: UUID, to: str = "jana.novakova@example.cz") -> SendEmail:
        email = SendEmail(**common_fields(message_id), to=to, subject="Odstávka vody", text="Zítra 8–14 h")
        await self.publish(email)
        return email


@contextlib.asynccontextmanager
async def running(
    database_url: str, kafka_bootstrap: str, tmp_path: Path, **settings: Any
) -> AsyncIterator[Running]:
    primary, secondary = Relays(tmp_path / "first.jsonl"), Relays(tmp_path / "second.jsonl")
    await primary.start()
    await secondary.start()
    try:
        app = bootstrap(
            Settings(
                allow_insecure=ON_LOOPBACK,
                database_url=database_url,
                accounts=[
                    Relay(smtp_host="127.0.0.1", smtp_port=primary.port),
                    Relay(smtp_host="127.0.0.1", smtp_port=secondary.port),
                ],
                kafka=quick_kafka(kafka_bootstrap),
                retry_poll_s=0.1,
                **settings,
            )
        )
        async with on_the_bus(Channel.EMAIL, app, kafka_bootstrap) as bus:
            yield Running(**vars(bus), primary=primary, secondary=secondary)
    finally:
        await primary.stop()
        await secondary.stop()


async def test_a_mailbox_that_does_not_exist_is_contact_invalid_and_a_refused_message_failed(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    message_id = uuid.uuid4()
    async with running(database_url, kafka_bootstrap, tmp_path) as bus:
        delivered = await bus.request(message_id)
        unknown = await bus.request(message_id, to=f"{UNKNOWN_MAILBOX}jana@example.cz")
        await bus.statuses(message_id, finals(2))
        bus.primary.behave(fail_reply="554 5.7.1 Message refused", fail_times=-1)
        refused = await bus.request(message_id)
        statuses = await bus.statuses(message_id, finals(3))
    outcome = {s.delivery_id: (s.state, s.reason, s.retryable) for s in statuses}
    assert outcome == {
        delivered.delivery_id: (DeliveryState.ACCEPTED, None, False),
        unknown.delivery_id: (DeliveryState.CONTACT_INVALID, "SMTP 550", False),
        refused.delivery_id: (DeliveryState.FAILED, "SMTP 554", False),
    }
    assert [e["delivery_id"] for e in bus.primary.received(message_id)] == [str(delivered.delivery_id)]


async def test_a_temporary_refusal_is_tried_again_and_the_message_arrives_once(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    message_id = uuid.uuid4()
    async with running(database_url, kafka_bootstrap, tmp_path, retry_base_s=0.05) as bus:
        bus.primary.behave(fail_reply="451 4.3.0 Try again later", fail_times=1)
        await bus.request(message_id)
        statuses = await bus.statuses(message_id, finals(1))
    assert [(s.state, s.retryable, s.reason) for s in statuses] == [
        (DeliveryState.FAILED, True, "SMTP 451"),
        (DeliveryState.ACCEPTED, False, None),
    ]
    assert len(bus.primary.received(message_id)) == 1


async def test_a_relay_down_moves_mail_to_the_second_relay_and_back_when_it_recovers(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    options = {"retry_base_s": 0.05, "breaker_failures": 2, "breaker_reset_s": 2, "concurrency": 1}
    async with running(database_url, kafka_bootstrap, tmp_path, **options) as bus:
        await fails_over_and_back(
            bus,
            send=bus.request,
            primary=bus.primary,
            secondary=bus.secondary,
            break_primary=bus.primary.stop,
            mend_primary=bus.primary.start,
            providers=("smtp", "smtp-2"),
            reset_s=2,
        )


async def test_a_poison_record_is_dead_lettered_and_the_lane_goes_on(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with running(database_url, kafka_bootstrap, tmp_path) as bus:
        await goes_on_after_poison(bus, send=bus.request)

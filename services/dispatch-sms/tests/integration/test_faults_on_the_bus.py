"""dispatch-sms through the real broker into fake gateways that fail on request: 429 with Retry-After, a
gateway down (failover to the second account and back), retries used up, a poison record, and the
gateway's delivery reports."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from pydantic import SecretStr

from hlasatel_contracts import Channel, DeliveryState, Lane, SendSms
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
from hlasatel_devstack.fakes.ledger import Ledger
from hlasatel_devstack.fakes.sms_gateway import sms_gateway_app
from hlasatel_devstack.ports import free_port
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import quick_kafka, serve_in_thread
from hlasatel_dispatch_sms.bootstrap import bootstrap
from hlasatel_dispatch_sms.config import GatewayAccount, Settings

SID, SECOND_SID = "AC" + "3" * 32, "AC" + "4" * 32


@dataclass
class Running(OnTheBus):
    """dispatch-sms on the bus, with its two gateways."""

    primary: HttpFake
    secondary: HttpFake

    async def request(
        self, message_id: UUID, lane: Lane = Lane.BULK, to: str = "+420777000002", text: str = "Odstávka vody"
    ) -> SendSms:
        sms = SendSms(**common_fields(message_id, lane), to=to, text=text)
        await self.publish(sms)
        return sms


@contextlib.asynccontextmanager
async def running(
    database_url: str, kafka_bootstrap: str, tmp_path: Path, **settings: Any
) -> AsyncIterator[Running]:
    """Two fake gateways and dispatch-sms, served on a port so that the gateways' reports reach it."""
    first = sms_gateway_app(ledger=Ledger(tmp_path / "first.jsonl"), account_sid=SID, auth_token="one")
    second = sms_gateway_app(
        ledger=Ledger(tmp_path / "second.jsonl"), account_sid=SECOND_SID, auth_token="two"
    )
    port = free_port()
    with serve_in_thread(first) as first_url, serve_in_thread(second) as second_url:
        app = bootstrap(
            Settings(
                allow_insecure=ON_LOOPBACK,
                database_url=database_url,
                accounts=[
                    GatewayAccount(gateway_url=first_url, account_sid=SID, auth_token=SecretStr("one")),
                    GatewayAccount(
                        name="twilio-backup",
                        gateway_url=second_url,
                        account_sid=SECOND_SID,
                        auth_token=SecretStr("two"),
                    ),
                ],
                status_callback_url=f"http://127.0.0.1:{port}/v1/callbacks/sms",
                kafka=quick_kafka(kafka_bootstrap),
                retry_poll_s=0.1,
                **settings,
            )
        )
        async with on_the_bus(Channel.SMS, app, kafka_bootstrap, port) as bus:
            yield Running(
                **vars(bus),
                primary=HttpFake(first_url, tmp_path / "first.jsonl"),
                secondary=HttpFake(second_url, tmp_path / "second.jsonl"),
            )


async def test_numbers_that_cannot_take_an_sms_are_contact_invalid_and_a_refused_message_failed(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    message_id = uuid.uuid4()
    async with running(database_url, kafka_bootstrap, tmp_path) as bus:
        await bus.primary.behave(report="none")
        sent = {
            "ok": await bus.request(message_id),
            "not a number": await bus.request(message_id, to="+15005550001"),
            "unsubscribed": await bus.request(message_id, to="+15005550004"),
            "landline": await bus.request(message_id, to="+15005550009"),
            "too long": await bus.request(message_id, text="Odstávka vody. " * 120),
        }
        statuses = await bus.statuses(message_id, finals(len(sent)))
    outcome = {
        name: next((s.state, s.reason) for s in statuses if s.delivery_id == r.delivery_id)
        for name, r in sent.items()
    }
    assert outcome == {
        "ok": (DeliveryState.ACCEPTED, None),
        "not a number": (DeliveryState.CONTACT_INVALID, "gateway refused: HTTP 400, code 21211"),
        "unsubscribed": (DeliveryState.CONTACT_INVALID, "gateway refused: HTTP 400, code 21610"),
        "landline": (DeliveryState.CONTACT_INVALID, "gateway refused: HTTP 400, code 21614"),
        "too long": (DeliveryState.FAILED, "gateway refused: HTTP 400, code 21617"),
    }
    assert [e["delivery_id"] for e in bus.primary.received(message_id)] == [str(sent["ok"].delivery_id)]


async def test_a_429_is_retried_no_sooner_than_retry_after_and_sent_once(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with running(database_url, kafka_bootstrap, tmp_path, retry_base_s=0.05) as bus:
        await waits_out_retry_after(
            bus, send=bus.request, fake=bus.primary, reason="gateway rate limit (429)"
        )


async def test_a_gateway_down_moves_traffic_to_the_second_account_and_back_when_it_recovers(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    options = {"retry_base_s": 0.05, "breaker_failures": 2, "breaker_reset_s": 2, "concurrency": 1}
    async with running(database_url, kafka_bootstrap, tmp_path, **options) as bus:
        await fails_over_and_back(
            bus,
            send=bus.request,
            primary=bus.primary,
            secondary=bus.secondary,
            break_primary=lambda: bus.primary.behave(fail_status=503, fail_times=-1),
            mend_primary=bus.primary.behave,
            providers=("twilio", "twilio-backup"),
            reset_s=2,
        )


async def test_when_the_retries_are_used_up_the_request_is_dead_lettered_with_the_reason(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    message_id = uuid.uuid4()
    options = {"retry_base_s": 0.05, "retry_max_attempts": 3, "breaker_failures": 100}
    async with running(database_url, kafka_bootstrap, tmp_path, **options) as bus:
        await bus.primary.behave(fail_status=503, fail_times=-1)
        request = await bus.request(message_id)
        statuses = await bus.statuses(message_id, finals(1))
        assert [(s.state, s.retryable) for s in statuses] == [(DeliveryState.FAILED, True)] * 2 + [
            (DeliveryState.FAILED, False)
        ]
        assert statuses[-1].reason == "gave up after 3 attempts: gateway error 503"
        letter = await bus.dead_letter(str(request.delivery_id))
        assert letter["service"] == "dispatch-sms" and letter["reason"] == statuses[-1].reason


async def test_a_poison_record_is_dead_lettered_and_the_lane_goes_on(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with running(database_url, kafka_bootstrap, tmp_path) as bus:
        await goes_on_after_poison(bus, send=bus.request)


class TestDeliveryReports:
    async def test_the_gateways_signed_reports_become_delivered_and_contact_invalid(
        self, database_url: str, kafka_bootstrap: str, tmp_path: Path
    ) -> None:
        message_id = uuid.uuid4()
        async with running(database_url, kafka_bootstrap, tmp_path) as bus:
            delivered = await bus.request(message_id)
            await bus.statuses(message_id, lambda found: len(found) >= 2)  # accepted, then delivered
            await bus.primary.behave(report="undelivered", report_error_code=30005)
            unreachable = await bus.request(message_id)
            statuses = await bus.statuses(message_id, lambda found: len(found) >= 4)
        states = {(s.delivery_id, s.state) for s in statuses}
        assert states == {
            (delivered.delivery_id, DeliveryState.ACCEPTED),
            (delivered.delivery_id, DeliveryState.DELIVERED),
            (unreachable.delivery_id, DeliveryState.ACCEPTED),
            (unreachable.delivery_id, DeliveryState.CONTACT_INVALID),
        }
        report = next(s for s in statuses if s.state is DeliveryState.CONTACT_INVALID)
        assert report.reason == "gateway reported undelivered, code 30005"
        assert report.subscriber_id == unreachable.subscriber_id and report.provider == "twilio"

    async def test_a_report_without_the_accounts_signature_is_refused(
        self, database_url: str, kafka_bootstrap: str, tmp_path: Path
    ) -> None:
        async with running(database_url, kafka_bootstrap, tmp_path) as bus:
            request = await bus.request(uuid.uuid4())
            await bus.statuses(request.message_id, finals(1))
            url = f"/v1/callbacks/sms?delivery_id={request.delivery_id}&message_id={request.message_id}"
            form = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30005"}
            async with httpx.AsyncClient(base_url=bus.url) as client:
                forged = await client.post(url, data=form, headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
                unsigned = await client.post(url, data=form)
        assert forged.status_code == unsigned.status_code == 403
        assert "X-Twilio-Signature" in forged.json()["detail"]

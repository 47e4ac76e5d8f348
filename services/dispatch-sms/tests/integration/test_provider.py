"""The SMS adapter: error classes with MockTransport, the real path over HTTP into the fake gateway."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from hlasatel_contracts import Lane, SendSms
from hlasatel_devstack.fakes.ledger import Ledger, read_ledger
from hlasatel_devstack.fakes.sms_gateway import sms_gateway_app
from hlasatel_devstack.testing import serve_in_thread
from hlasatel_dispatch.providers import ContactInvalidError, PermanentProviderError, RetryableProviderError
from hlasatel_dispatch_sms.provider import TwilioSmsProvider

SID = "AC" + "1" * 32


def request(to: str = "+420777123456", text: str = "Odstávka vody zítra 8–14 h") -> SendSms:
    return SendSms(
        delivery_id=uuid4(),
        message_id=uuid4(),
        subscriber_id=uuid4(),
        contact_id=uuid4(),
        lane=Lane.BULK,
        category="water",
        requested_at=datetime.now(UTC),
        to=to,
        text=text,
    )


def provider(
    handler: httpx.MockTransport | None = None, base_url: str = "http://gateway"
) -> TwilioSmsProvider:
    return TwilioSmsProvider(
        base_url=base_url,
        account_sid=SID,
        auth_token="secret",
        sender="Liberec",
        status_callback_url="http://dispatch/v1/callbacks/sms",
        transport=handler,
    )


def answering(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _: httpx.Response(status, json=body, headers=headers))


class TestErrorClasses:
    async def test_rate_limit_is_retryable_with_retry_after(self) -> None:
        with pytest.raises(RetryableProviderError) as caught:
            await provider(answering(429, {"code": 20429}, {"Retry-After": "7"})).send(request())
        assert caught.value.retry_after == 7.0

    async def test_a_retry_after_given_as_a_date_is_honoured_too(self) -> None:
        """RFC 9110 allows an HTTP-date; a gateway in maintenance says until when, on a 503 as on a 429."""
        until = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
        for status in (429, 503):
            with pytest.raises(RetryableProviderError) as caught:
                await provider(answering(status, {}, {"Retry-After": until})).send(request())
            assert caught.value.retry_after is not None and 590 <= caught.value.retry_after <= 600

    async def test_server_errors_and_timeouts_are_retryable(self) -> None:
        with pytest.raises(RetryableProviderError):
            await provider(answering(503, {})).send(request())

        def timeout(_: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("slow")

        with pytest.raises(RetryableProviderError, match="timed out"):
            await provider(httpx.MockTransport(timeout)).send(request())

    async def test_a_number_that_does_not_exist_is_an_invalid_contact_and_is_not_repeated(self) -> None:
        body = {"code": 21211, "message": "The 'To' number +420777123456 is not a valid phone number."}
        with pytest.raises(ContactInvalidError) as caught:
            await provider(answering(400, body)).send(request())
        assert "777" not in str(caught.value)

    async def test_other_refusals_are_permanent(self) -> None:
        with pytest.raises(PermanentProviderError) as caught:
            await provider(answering(401, {"code": 20003})).send(request())
        assert not isinstance(caught.value, ContactInvalidError)


class TestAgainstTheFakeGateway:
    async def test_the_fake_receives_the_text_with_the_ids(self, tmp_path: Path) -> None:
        ledger = Ledger(tmp_path / "sms.jsonl")
        with serve_in_thread(sms_gateway_app(ledger=ledger, account_sid=SID, auth_token="secret")) as url:
            sms = request()
            receipt = await provider(base_url=url).send(sms)
        (entry,) = read_ledger(ledger.path)
        assert entry["recipient"] == "+420777123456"
        assert entry["text"] == "Odstávka vody zítra 8–14 h"
        assert (entry["message_id"], entry["delivery_id"]) == (str(sms.message_id), str(sms.delivery_id))
        assert receipt.provider_message_id == entry["sid"]
        assert receipt.segments == 1

    async def test_the_fake_refuses_a_wrong_token_and_a_bad_number(self, tmp_path: Path) -> None:
        ledger = Ledger(tmp_path / "sms.jsonl")
        wrong_token = sms_gateway_app(ledger=ledger, account_sid=SID, auth_token="other")
        with serve_in_thread(wrong_token) as url, pytest.raises(PermanentProviderError, match="HTTP 401"):
            await provider(base_url=url).send(request())
        right_token = sms_gateway_app(ledger=ledger, account_sid=SID, auth_token="secret")
        with serve_in_thread(right_token) as url, pytest.raises(ContactInvalidError):
            await provider(base_url=url).send(request(to="12345"))
        assert read_ledger(ledger.path) == []

    async def test_a_repeat_of_a_delivery_the_gateway_took_is_answered_with_the_same_message(
        self, tmp_path: Path
    ) -> None:
        ledger = Ledger(tmp_path / "sms.jsonl")
        with serve_in_thread(sms_gateway_app(ledger=ledger, account_sid=SID, auth_token="secret")) as url:
            sms, other = request(), request()
            first = await provider(base_url=url).send(sms)
            again = await provider(base_url=url).send(sms)  # as after a crash between the call and the record
            different = await provider(base_url=url).send(other)
        assert again.provider_message_id == first.provider_message_id != different.provider_message_id
        sent = [entry["delivery_id"] for entry in read_ledger(ledger.path)]
        assert sent == [str(sms.delivery_id), str(other.delivery_id)]

"""The push adapter: firebase-admin's async API, with its OAuth token exchange, into the fake FCM v1."""

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from hlasatel_contracts import Lane, SendPush
from hlasatel_devstack.fakes.fcm import fcm_app, write_service_account
from hlasatel_devstack.fakes.ledger import Ledger, read_ledger
from hlasatel_devstack.ports import free_port
from hlasatel_devstack.testing import serve_in_thread
from hlasatel_dispatch.providers import ContactInvalidError, PermanentProviderError, RetryableProviderError
from hlasatel_dispatch_push.provider import PAYLOAD_LIMIT, FcmPushProvider, fitting_body


def request(lane: Lane = Lane.BULK) -> SendPush:
    return SendPush(
        delivery_id=uuid4(),
        message_id=uuid4(),
        subscriber_id=uuid4(),
        contact_id=uuid4(),
        lane=lane,
        category="water",
        requested_at=datetime.now(UTC),
        token="fcm-token-1",
        title="Odstávka vody",
        body="Zítra 8–14 h",
        data={"category": "water"},
    )


@pytest.fixture
def fake_fcm(tmp_path: Path) -> Iterator[tuple[str, Path, Ledger]]:
    """The fake FCM on a real port, and a service-account file whose token_uri points at it."""
    port = free_port()
    credentials = tmp_path / "service-account.json"
    account: dict[str, Any] = write_service_account(credentials, token_uri=f"http://127.0.0.1:{port}/token")
    ledger = Ledger(tmp_path / "push.jsonl")
    with serve_in_thread(fcm_app(ledger=ledger, service_account=account), port=port) as url:
        yield url, credentials, ledger


@contextlib.asynccontextmanager
async def fcm(credentials: Path, url: str, **options: Any) -> AsyncIterator[FcmPushProvider]:
    """The provider on the fake, closed afterwards."""
    provider = FcmPushProvider(credentials_file=str(credentials), endpoint=url, **options)
    try:
        yield provider
    finally:
        await provider.close()


class TestAgainstTheFakeFcm:
    async def test_notification_reaches_the_fake_with_ids_and_priority(
        self, fake_fcm: tuple[str, Path, Ledger]
    ) -> None:
        url, credentials, ledger = fake_fcm
        async with fcm(credentials, url) as provider:
            bulk, emergency = request(), request(Lane.EMERGENCY)
            receipt = await provider.send(bulk)
            await provider.send(emergency)
        first, second = read_ledger(ledger.path)
        assert (first["recipient"], first["title"], first["body"]) == (
            "fcm-token-1",
            "Odstávka vody",
            "Zítra 8–14 h",
        )
        assert (first["message_id"], first["delivery_id"]) == (str(bulk.message_id), str(bulk.delivery_id))
        assert first["data"]["category"] == "water"
        assert (first["priority"], second["priority"]) == ("normal", "high")
        assert receipt.provider_message_id == first["name"]
        # a repeat of the delivery replaces its notification on the phone instead of adding one
        assert (first["tag"], second["tag"]) == (str(bulk.delivery_id), str(emergency.delivery_id))
        # without an expiry, FCM keeps it as long as it keeps any
        assert (first["ttl"], first["apns_expiration"]) == (None, None)

    async def test_a_phone_offline_past_the_expiry_is_not_shown_the_message(
        self, fake_fcm: tuple[str, Path, Ledger]
    ) -> None:
        url, credentials, ledger = fake_fcm
        expires = datetime.now(UTC) + timedelta(hours=1)
        async with fcm(credentials, url) as provider:
            await provider.send(request().model_copy(update={"expires_at": expires}))
        (sent,) = read_ledger(ledger.path)
        assert sent["ttl"] in {"3598s", "3599s", "3600s"}
        assert sent["apns_expiration"] == str(int(expires.timestamp()))

    async def test_a_token_of_another_sender_is_an_invalid_contact(
        self, fake_fcm: tuple[str, Path, Ledger]
    ) -> None:
        url, credentials, ledger = fake_fcm
        async with fcm(credentials, url, project_id="someone-else") as provider:
            with pytest.raises(ContactInvalidError, match=r"SENDER_ID_MISMATCH|SenderIdMismatch"):
                await provider.send(request())
        assert read_ledger(ledger.path) == []

    async def test_a_key_the_token_endpoint_refuses_is_retried_not_dropped(
        self, fake_fcm: tuple[str, Path, Ledger], tmp_path: Path
    ) -> None:
        url, credentials, _ = fake_fcm
        stranger = tmp_path / "stranger.json"
        write_service_account(stranger, token_uri=json.loads(credentials.read_text())["token_uri"])
        async with fcm(stranger, url) as provider:
            with pytest.raises(RetryableProviderError, match="authentication failed"):
                await provider.send(request())


class TestErrorClasses:
    @pytest.mark.parametrize(
        ("token", "error", "reason"),
        [
            ("unregistered-1", ContactInvalidError, "UnregisteredError"),
            ("invalid-1", ContactInvalidError, "not a valid registration token"),
            ("quota-1", RetryableProviderError, "QuotaExceededError"),
            ("unavailable-1", RetryableProviderError, "UnavailableError"),
            ("internal-1", RetryableProviderError, "InternalError"),
        ],
    )
    async def test_each_fcm_error_in_its_class(
        self, fake_fcm: tuple[str, Path, Ledger], token: str, error: type[Exception], reason: str
    ) -> None:
        url, credentials, _ = fake_fcm
        async with fcm(credentials, url) as provider:
            with pytest.raises(error, match=reason) as caught:
                await provider.send(request().model_copy(update={"token": token}))
        assert type(caught.value) is error and token not in str(caught.value)

    async def test_a_refused_payload_is_told_apart_from_a_bad_token(
        self, fake_fcm: tuple[str, Path, Ledger]
    ) -> None:
        url, credentials, _ = fake_fcm
        too_big = request().model_copy(update={"data": {"category": "water", "extra": "x" * 5000}})
        async with fcm(credentials, url) as provider:
            with pytest.raises(PermanentProviderError, match="the message was refused") as caught:
                await provider.send(too_big)
        assert type(caught.value) is PermanentProviderError


class TestPayload:
    def test_a_long_body_is_cut_to_fit_fcms_4_kb_and_a_short_one_is_left_alone(self) -> None:
        data = {"category": "water", "message_id": str(uuid4()), "delivery_id": str(uuid4())}
        long_body = "Žluťoučký kůň úpěl ďábelské ódy. " * 300
        body = fitting_body("Odstávka vody", long_body, data)
        size = len(
            json.dumps({"notification": {"title": "Odstávka vody", "body": body}, "data": data}).encode()
        )
        assert body.endswith("…") and long_body.startswith(body[:-1])
        assert PAYLOAD_LIMIT - 20 < size <= PAYLOAD_LIMIT
        assert fitting_body("Odstávka vody", "Zítra 8–14 h", data) == "Zítra 8–14 h"


class TestBatches:
    async def test_up_to_500_notifications_go_in_one_call_each_with_its_own_outcome(
        self, fake_fcm: tuple[str, Path, Ledger]
    ) -> None:
        url, credentials, ledger = fake_fcm
        batch = [request() for _ in range(499)] + [request().model_copy(update={"token": "unregistered-x"})]
        async with fcm(credentials, url) as provider:
            outcomes = await provider.send_many(batch)
        assert provider.max_batch == 500
        assert [type(o).__name__ for o in outcomes[-2:]] == ["Receipt", "ContactInvalidError"]
        assert len(read_ledger(ledger.path)) == 499

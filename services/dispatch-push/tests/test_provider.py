"""The push adapter: firebase-admin's async API, with its OAuth token exchange, into the fake FCM v1."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from hlasatel_contracts import Lane, SendPush
from hlasatel_devstack.fakes.fcm import fcm_app, write_service_account
from hlasatel_devstack.fakes.ledger import Ledger, read_ledger
from hlasatel_devstack.ports import free_port
from hlasatel_devstack.testing import serve_in_thread
from hlasatel_dispatch.providers import ContactInvalidError, RetryableProviderError
from hlasatel_dispatch_push.provider import FcmPushProvider


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


class TestAgainstTheFakeFcm:
    async def test_notification_reaches_the_fake_with_ids_and_priority(
        self, fake_fcm: tuple[str, Path, Ledger]
    ) -> None:
        url, credentials, ledger = fake_fcm
        provider = FcmPushProvider(credentials_file=str(credentials), endpoint=url)
        try:
            bulk, emergency = request(), request(Lane.EMERGENCY)
            receipt = await provider.send(bulk)
            await provider.send(emergency)
        finally:
            await provider.close()
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

    async def test_a_token_of_another_sender_is_an_invalid_contact(
        self, fake_fcm: tuple[str, Path, Ledger]
    ) -> None:
        url, credentials, ledger = fake_fcm
        provider = FcmPushProvider(credentials_file=str(credentials), endpoint=url, project_id="someone-else")
        try:
            with pytest.raises(ContactInvalidError, match=r"SENDER_ID_MISMATCH|SenderIdMismatch"):
                await provider.send(request())
        finally:
            await provider.close()
        assert read_ledger(ledger.path) == []

    async def test_a_key_the_token_endpoint_refuses_is_retried_not_dropped(
        self, fake_fcm: tuple[str, Path, Ledger], tmp_path: Path
    ) -> None:
        url, credentials, _ = fake_fcm
        stranger = tmp_path / "stranger.json"
        write_service_account(stranger, token_uri=json.loads(credentials.read_text())["token_uri"])
        provider = FcmPushProvider(credentials_file=str(stranger), endpoint=url)
        try:
            with pytest.raises(RetryableProviderError, match="authentication failed"):
                await provider.send(request())
        finally:
            await provider.close()

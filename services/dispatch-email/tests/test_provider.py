"""The e-mail adapter over real SMTP into aiosmtpd: MIME as a mail client reads it, and SMTP error classes."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller

from hlasatel_contracts import Lane, SendEmail
from hlasatel_devstack.fakes.ledger import Ledger, read_ledger
from hlasatel_devstack.fakes.smtp import smtp_server
from hlasatel_devstack.ports import free_port
from hlasatel_dispatch.providers import ContactInvalidError, PermanentProviderError, RetryableProviderError
from hlasatel_dispatch_email.provider import SmtpEmailProvider

SENDER = "Statutární město Liberec <hlasatel@liberec.cz>"


def request(to: str = "jana.novakova@example.cz", **overrides: Any) -> SendEmail:
    fields: dict[str, Any] = {
        "delivery_id": uuid4(),
        "message_id": uuid4(),
        "subscriber_id": uuid4(),
        "contact_id": uuid4(),
        "lane": Lane.BULK,
        "category": "water",
        "requested_at": datetime.now(UTC),
        "to": to,
        "subject": "Odstávka vody – Masarykova",
        "text": "Zítra 8–14 h nepoteče voda. Žluťoučký kůň.",
    }
    return SendEmail(**(fields | overrides))


class TestAgainstTheFakeSmtpServer:
    async def test_czech_subject_and_body_arrive_intact_with_the_ids(self, tmp_path: Path) -> None:
        ledger = Ledger(tmp_path / "email.jsonl")
        port = free_port()
        server = smtp_server(ledger=ledger, port=port)
        server.start()
        try:
            email = request(html="<p>Zítra <b>nepoteče</b> voda.</p>", unsubscribe_url="https://x.cz/u/abc")
            receipt = await SmtpEmailProvider(host="127.0.0.1", port=port, sender=SENDER).send(email)
        finally:
            server.stop()
        (entry,) = read_ledger(ledger.path)
        assert entry["recipient"] == "jana.novakova@example.cz"
        assert entry["subject"] == "Odstávka vody – Masarykova"
        assert entry["text"].strip() == "Zítra 8–14 h nepoteče voda. Žluťoučký kůň."
        assert entry["html"].strip() == "<p>Zítra <b>nepoteče</b> voda.</p>"
        assert entry["list_unsubscribe"] == "<https://x.cz/u/abc>"
        assert (entry["message_id"], entry["delivery_id"]) == (str(email.message_id), str(email.delivery_id))
        assert receipt.provider_message_id == entry["smtp_message_id"]

    def test_the_message_is_plain_ascii_on_the_wire(self) -> None:
        composed = SmtpEmailProvider(host="x", port=1, sender=SENDER).compose(request())
        wire = composed.as_bytes()
        assert wire.isascii()
        parsed = message_from_bytes(wire, policy=policy.default)
        assert str(parsed["Subject"]) == "Odstávka vody – Masarykova"
        assert parsed["List-Unsubscribe"] is None


class Refusing:
    """An SMTP server that answers RCPT TO with a fixed code."""

    def __init__(self, code: int) -> None:
        self.code = code

    async def handle_RCPT(  # aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return f"{self.code} refused"


class TestSmtpErrorClasses:
    @pytest.mark.parametrize(
        ("code", "error"),
        [
            (550, ContactInvalidError),
            (553, ContactInvalidError),
            (552, PermanentProviderError),
            (451, RetryableProviderError),
            (421, RetryableProviderError),
        ],
    )
    async def test_refused_recipient(self, code: int, error: type[Exception]) -> None:
        port = free_port()
        controller = Controller(Refusing(code), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            with pytest.raises(error) as caught:
                await SmtpEmailProvider(host="127.0.0.1", port=port, sender=SENDER).send(request())
        finally:
            controller.stop()
        assert type(caught.value) is error
        assert str(caught.value) == f"SMTP {code}"

    async def test_nobody_listening_is_retryable(self) -> None:
        with pytest.raises(RetryableProviderError, match="connection failed"):
            await SmtpEmailProvider(host="127.0.0.1", port=free_port(), sender=SENDER, timeout_s=2).send(
                request()
            )

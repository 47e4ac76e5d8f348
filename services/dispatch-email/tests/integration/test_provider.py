"""The e-mail adapter over real SMTP into aiosmtpd: MIME as a mail client reads it, and SMTP error classes."""

import asyncio
import base64
import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from uuid import uuid4

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hlasatel_contracts import Lane, SendEmail
from hlasatel_devstack.fakes.ledger import Ledger, read_ledger
from hlasatel_devstack.fakes.smtp import LedgerHandler, smtp_server
from hlasatel_devstack.ports import free_port
from hlasatel_dispatch.providers import ContactInvalidError, PermanentProviderError, RetryableProviderError
from hlasatel_dispatch_email.provider import DkimKey, SmtpEmailProvider

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

    def test_every_attempt_of_a_delivery_carries_the_same_message_id(self) -> None:
        sender = SmtpEmailProvider(host="x", port=1, sender=SENDER)
        email, other = request(), request()
        first, again = sender.compose(email), sender.compose(email)
        assert first["Message-ID"] == again["Message-ID"] == f"<{email.delivery_id}@liberec.cz>"
        assert sender.compose(other)["Message-ID"] != first["Message-ID"]

    def test_a_long_czech_subject_is_folded_on_the_wire_and_reads_back_whole(self) -> None:
        subject = (
            "Odstávka vody v ulici Masarykova a přilehlých ulicích – Liberec I-Staré Město, pátek 8–14 h"
        )
        sender = SmtpEmailProvider(host="x", port=1, sender=SENDER)
        wire = sender._wire(sender.compose(request(subject=subject)))
        assert max(len(line) for line in wire.split(b"\r\n")) <= 78
        parsed = message_from_bytes(wire, policy=policy.default)
        assert str(parsed["Subject"]) == subject and str(parsed["From"]) == SENDER

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


class Counting(LedgerHandler):
    """The fake server's handler, also counting the connections it was asked to open and keeping each
    message's bytes exactly as they arrived."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(ledger)
        self.connections = 0
        self.received: list[bytes] = []

    async def handle_EHLO(  # aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content or envelope.content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def counting(tmp_path: Path) -> Iterator[tuple[Counting, int]]:
    handler, port = Counting(Ledger(tmp_path / "email.jsonl")), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    yield handler, port
    controller.stop()


class TestConnectionPool:
    async def test_connections_are_reused_and_never_more_than_the_pool_size(
        self, counting: tuple[Counting, int]
    ) -> None:
        handler, port = counting
        provider = SmtpEmailProvider(host="127.0.0.1", port=port, sender=SENDER, pool_size=3)
        try:
            for _ in range(5):
                await provider.send(request())
            assert handler.connections == 1
            await asyncio.gather(*(provider.send(request()) for _ in range(30)))
        finally:
            await provider.close()
        assert len(read_ledger(handler.ledger.path)) == 35
        assert handler.connections <= 3 and provider.pool.opened == handler.connections

    async def test_a_connection_the_relay_dropped_while_idle_is_replaced_without_failing(
        self, tmp_path: Path
    ) -> None:
        handler, port = Counting(Ledger(tmp_path / "email.jsonl")), free_port()
        provider = SmtpEmailProvider(host="127.0.0.1", port=port, sender=SENDER, pool_size=1)
        for _ in range(2):  # the relay restarts between the two messages, dropping the idle connection
            controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
            controller.start()
            try:
                await provider.send(request())
            finally:
                controller.stop()
        await provider.close()
        assert len(read_ledger(handler.ledger.path)) == 2 and handler.connections == 2


def _dkim_key() -> tuple[bytes, str]:
    """A fresh RSA key, and the DNS TXT record that would publish it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()


class TestDkim:
    async def test_the_received_message_verifies_against_the_published_key(
        self, counting: tuple[Counting, int]
    ) -> None:
        handler, port = counting
        private, record = _dkim_key()
        key = DkimKey(selector="hlasatel", domain="liberec.cz", private_key=private)
        provider = SmtpEmailProvider(host="127.0.0.1", port=port, sender=SENDER, dkim=key)
        try:
            await provider.send(request(unsubscribe_url="https://x.cz/u/abc"))
        finally:
            await provider.close()
        (received,) = handler.received

        def dns(name: bytes, timeout: int = 5) -> bytes:
            assert name == b"hlasatel._domainkey.liberec.cz."
            return record.encode()

        assert received.startswith(b"DKIM-Signature: ")
        assert dkim.verify(received, dnsfunc=dns)
        tampered = received.replace(b"nepote=C4=8De", b"pote=C4=8De", 1)  # "will not run" made "will run"
        assert tampered != received
        assert not dkim.verify(tampered, dnsfunc=dns)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a relay of the city's own would have."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.liberec.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class Password:
    """aiosmtpd's authenticator: one account, and what it was asked to check."""

    def __init__(self, username: str, password: str) -> None:
        self.account = (username.encode(), password.encode())
        self.tried: list[tuple[bytes, bool]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (auth_data.login, auth_data.password) == self.account
        over_tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.tried.append((auth_data.login, over_tls))
        return AuthResult(success=ok, handled=False)


class TestRealRelays:
    """Relays that want TLS and a login, as a real one does; their certificate is the city's own."""

    @pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "smtps"])
    # aiosmtpd's warning for SMTPS, whose connection is TLS before AUTH can be offered (the test checks it)
    @pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
    async def test_the_message_goes_over_tls_after_a_login(self, tmp_path: Path, implicit_tls: bool) -> None:
        cert_file, key_file = _self_signed(tmp_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        ledger, port, password = Ledger(tmp_path / "email.jsonl"), free_port(), Password("hlasatel", "s3cret")
        # aiosmtpd offers AUTH only after STARTTLS unless told that the connection is TLS from the start
        tls: dict[str, Any] = (
            {"ssl_context": context, "auth_require_tls": False}
            if implicit_tls
            else {"tls_context": context, "require_starttls": True}
        )
        relay = Controller(
            LedgerHandler(ledger),
            hostname="127.0.0.1",
            port=port,
            authenticator=password,
            auth_required=True,
            **tls,
        )
        relay.start()
        options: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": port,
            "sender": SENDER,
            "username": "hlasatel",
            "ca_file": str(cert_file),
            "start_tls": not implicit_tls,
            "use_tls": implicit_tls,
        }
        try:
            email = request()
            await SmtpEmailProvider(**options, password="s3cret").send(email)
            with pytest.raises(PermanentProviderError, match="SMTP 535"):
                await SmtpEmailProvider(**options, password="wrong").send(request())
        finally:
            relay.stop()
        assert [entry["delivery_id"] for entry in read_ledger(ledger.path)] == [str(email.delivery_id)]
        assert password.tried and all(over_tls for _, over_tls in password.tried)  # never in the clear

    async def test_a_relay_whose_certificate_nobody_vouches_for_is_not_sent_to(self, tmp_path: Path) -> None:
        cert_file, key_file = _self_signed(tmp_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        ledger, port = Ledger(tmp_path / "email.jsonl"), free_port()
        relay = Controller(
            LedgerHandler(ledger), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
        )
        relay.start()
        try:
            with pytest.raises(RetryableProviderError, match="SMTP connection failed"):
                await SmtpEmailProvider(host="127.0.0.1", port=port, sender=SENDER, start_tls=True).send(
                    request()
                )
        finally:
            relay.stop()
        assert read_ledger(ledger.path) == []

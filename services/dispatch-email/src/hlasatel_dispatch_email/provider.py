"""E-mail over SMTP through aiosmtplib."""

from dataclasses import dataclass
from email import charset, policy
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

import aiosmtplib
import dkim

from hlasatel_contracts import Channel, SendEmail
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    PermanentProviderError,
    Provider,
    ProviderError,
    Receipt,
    RetryableProviderError,
)
from hlasatel_dispatch_email.pool import SmtpPool

# SMTP wants CRLF line ends and lines under 998 characters on the wire
SMTP_POLICY = policy.compat32.clone(linesep="\r\n")

# UTF-8 text as quoted-printable, in bodies and in encoded words: 7-bit clean for relays without
# 8BITMIME, and Czech stays readable in the raw message
_UTF8 = charset.Charset("utf-8")
_UTF8.header_encoding = _UTF8.body_encoding = charset.QP


def _header(name: str, value: str) -> str:
    """A header's value as it may go on the wire: encoded words, folded after the header's name, unless it
    is ASCII."""
    return value if value.isascii() else Header(value, _UTF8, header_name=name).encode()


def _text(body: str, subtype: str) -> MIMEText:
    # typeshed allows a charset's name only; the email package takes a Charset too, which sets QP here
    return MIMEText(body, subtype, _UTF8)  # type: ignore[arg-type]


# Codes by which a server says the mailbox does not exist (RFC 5321 4.2.3).
MAILBOX_UNKNOWN_CODES = frozenset({550, 551, 553})


def classify_smtp_code(code: int, *, for_recipient: bool) -> ProviderError:
    """4xx is worth retrying, 5xx is not, and 550 for the recipient means the address is gone."""
    reason = f"SMTP {code}"
    if 400 <= code < 500:
        return RetryableProviderError(reason)
    if for_recipient and code in MAILBOX_UNKNOWN_CODES:
        return ContactInvalidError(reason)
    return PermanentProviderError(reason)


@dataclass(frozen=True)
class DkimKey:
    """Signs outgoing mail for `domain` with the key published at `selector`._domainkey.`domain`."""

    selector: str
    domain: str
    private_key: bytes
    headers: tuple[str, ...] = (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    )

    def sign(self, wire: bytes) -> bytes:
        """The DKIM-Signature header for the message (relaxed/relaxed, rsa-sha256)."""
        signature: bytes = dkim.sign(
            wire,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            include_headers=[header.encode() for header in self.headers],
            canonicalize=(b"relaxed", b"relaxed"),
        )
        return signature


class SmtpEmailProvider(Provider[SendEmail]):
    channel = Channel.EMAIL

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        use_tls: bool = False,
        ca_file: str | None = None,
        timeout_s: float = 30.0,
        name: str = "smtp",
        pool_size: int = 4,
        dkim: DkimKey | None = None,
    ) -> None:
        self.name = name
        self._host, self._port = host, port
        name, self._envelope_from = parseaddr(sender)
        self._from = formataddr((name, self._envelope_from), charset=_UTF8)
        self._domain = self._envelope_from.rpartition("@")[2] or "hlasatel.local"
        self._auth: dict[str, Any] = {"username": username, "password": password} if username else {}
        self._start_tls, self._use_tls, self._timeout = start_tls, use_tls, timeout_s
        self._ca_file = ca_file
        self._dkim = dkim
        self.pool = SmtpPool(size=pool_size, connect=self._connect)

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            use_tls=self._use_tls,
            start_tls=self._start_tls,
            cert_bundle=self._ca_file,  # None: the system's CAs
            timeout=self._timeout,
        )
        await client.connect()
        if self._auth:
            await client.login(self._auth["username"], self._auth["password"])
        return client

    def compose(self, request: SendEmail) -> Message:
        """The MIME message: text, optional HTML alternative, ids for tracing, unsubscribe headers.

        Built with the email package's classic classes (compat32): the same MIME as `EmailMessage` gives,
        in an eighth of the CPU, since nothing parses the headers it has just been given (4.0 → 0.5 ms).
        """
        text = _text(request.text, "plain")
        if request.html:
            message: Message = MIMEMultipart("alternative")
            message.attach(text)
            message.attach(_text(request.html, "html"))
        else:
            message = text
        message["From"] = self._from
        message["To"] = request.to
        message["Subject"] = _header("Subject", request.subject)
        message["Date"] = formatdate(usegmt=True)
        # the same for every attempt of a delivery: a repeat after a crash mid-call is the same message to a
        # mailbox that keeps one message per Message-ID
        message["Message-ID"] = f"<{request.delivery_id}@{self._domain}>"
        message["X-Hlasatel-Message-Id"] = str(request.message_id)
        message["X-Hlasatel-Delivery-Id"] = str(request.delivery_id)
        if request.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{request.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message

    def _wire(self, message: Message) -> bytes:
        """The message as sent, DKIM-signed when a key is configured."""
        wire = message.as_bytes(policy=SMTP_POLICY)
        return self._dkim.sign(wire) + wire if self._dkim else wire

    async def _send(self, request: SendEmail) -> Receipt:
        message = self.compose(request)
        wire = self._wire(message)
        try:
            for last_chance in (False, True):
                try:
                    async with self.pool.connection() as (client, reused):
                        await client.sendmail(self._envelope_from, [request.to], wire)
                    break
                except aiosmtplib.SMTPServerDisconnected:
                    # a reused connection the relay had closed while idle: once more on a fresh one
                    if last_chance or not reused:
                        raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # The exception text carries the address, so only the code travels on.
            raise classify_smtp_code(exc.recipients[0].code, for_recipient=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise classify_smtp_code(exc.code, for_recipient=False) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryableProviderError(f"SMTP connection failed ({type(exc).__name__})") from None
        return Receipt(provider_message_id=message["Message-ID"])

    async def close(self) -> None:
        await self.pool.close()

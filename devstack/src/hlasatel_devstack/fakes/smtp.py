"""A local SMTP server (aiosmtpd) that keeps what it receives."""

from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from hlasatel_devstack.fakes.behaviour import Countdown
from hlasatel_devstack.fakes.ledger import Ledger

# Read with the email package's classic parser, which decodes only what is asked for: the modern one
# (policy.default) parses every header and took 3 ms a message, more than the dispatcher spent sending it.


def _part(message: Message, content_type: str) -> str | None:
    """The text of the message's first part of this type, with plain line ends."""
    for part in message.walk():
        if part.get_content_type() == content_type:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")
    return None


def _decoded(value: str | None) -> str | None:
    return None if value is None else str(make_header(decode_header(value)))


# a mailbox whose local part starts with this does not exist
UNKNOWN_MAILBOX = "unknown-"


class Behaviour(Countdown):
    """How the server answers DATA from now on: `fail_reply` (an SMTP reply such as "451 4.3.0 try again
    later" or "554 5.7.1 refused") for the next `fail_times` messages (-1: until told otherwise)."""

    fail_reply: str | None = None


class LedgerHandler:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.behaviour = Behaviour()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith(UNKNOWN_MAILBOX):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if (failure := self.behaviour.counted(self.behaviour.fail_reply)) is not None:
            return failure
        message = message_from_bytes(envelope.original_content or envelope.content)
        for recipient in envelope.rcpt_tos:
            self.ledger.append(
                {
                    "recipient": recipient,
                    "from": envelope.mail_from,
                    "subject": _decoded(message["Subject"]),
                    "text": _part(message, "text/plain"),
                    "html": _part(message, "text/html"),
                    "smtp_message_id": message["Message-ID"],
                    "list_unsubscribe": message["List-Unsubscribe"],
                    "message_id": message["X-Hlasatel-Message-Id"],
                    "delivery_id": message["X-Hlasatel-Delivery-Id"],
                }
            )
        await self.behaviour.stall()
        return "250 Message accepted for delivery"


def smtp_server(*, ledger: Ledger, port: int, handler: LedgerHandler | None = None) -> Controller:
    """Not started yet: call ``start()``; it serves from a thread of its own. A handler of the caller's
    keeps its behaviour across a stop and a new server on the same port."""
    return Controller(handler or LedgerHandler(ledger), hostname="127.0.0.1", port=port, decode_data=False)

"""A local SMTP server (aiosmtpd) that keeps what it receives."""

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from hlasatel_devstack.fakes.ledger import Ledger


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else None


# a mailbox whose local part starts with this does not exist
UNKNOWN_MAILBOX = "unknown-"


@dataclass
class Behaviour:
    """How the server answers DATA from now on: `fail_reply` (an SMTP reply such as "451 4.3.0 try again
    later" or "554 5.7.1 refused") for the next `fail_times` messages (-1: until told otherwise)."""

    fail_reply: str | None = None
    fail_times: int = 0


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

    def _failure(self) -> str | None:
        behaviour = self.behaviour
        if behaviour.fail_reply is None or behaviour.fail_times == 0:
            return None
        if behaviour.fail_times > 0:
            behaviour.fail_times -= 1
        return behaviour.fail_reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if (failure := self._failure()) is not None:
            return failure
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        for recipient in envelope.rcpt_tos:
            self.ledger.append(
                {
                    "recipient": recipient,
                    "from": envelope.mail_from,
                    "subject": str(message["Subject"]),
                    "text": _part(message, "plain"),
                    "html": _part(message, "html"),
                    "smtp_message_id": message["Message-ID"],
                    "list_unsubscribe": message["List-Unsubscribe"],
                    "message_id": message["X-Hlasatel-Message-Id"],
                    "delivery_id": message["X-Hlasatel-Delivery-Id"],
                }
            )
        return "250 Message accepted for delivery"


def smtp_server(*, ledger: Ledger, port: int, handler: LedgerHandler | None = None) -> Controller:
    """Not started yet: call ``start()``; it serves from a thread of its own. A handler of the caller's
    keeps its behaviour across a stop and a new server on the same port."""
    return Controller(handler or LedgerHandler(ledger), hostname="127.0.0.1", port=port, decode_data=False)

"""A local SMTP server (aiosmtpd) that keeps what it receives."""

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from hlasatel_devstack.fakes.ledger import Ledger


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else None


class LedgerHandler:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
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


def smtp_server(*, ledger: Ledger, port: int) -> Controller:
    """Not started yet: call ``start()``; it serves from a thread of its own."""
    return Controller(LedgerHandler(ledger), hostname="127.0.0.1", port=port, decode_data=False)

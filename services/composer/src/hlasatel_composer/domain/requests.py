"""Turning a message and one recipient into delivery requests. Pure."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from hlasatel_composer.domain.deliveries import delivery_id
from hlasatel_composer.domain.messages import ChannelContent, Content, Severity, lane_for
from hlasatel_contracts import Channel, DeliveryRequest, Language, QuietHours, SendEmail, SendPush, SendSms
from hlasatel_contracts.sms import SmsLength, measure, transliterate


@dataclass(frozen=True)
class Recipient:
    subscriber_id: UUID
    language: Language
    contacts: dict[Channel, tuple[UUID, str]]
    unsubscribe_token: str | None = None
    # the registry's code for each category (and 'all'); older registries gave the one token above
    unsubscribe_tokens: dict[str, str] = field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    # why nothing can be sent to this subscriber (a record that cannot be read): each delivery fails
    problem: str | None = None

    def unsubscribe_code(self, category: str) -> str | None:
        """The code that unsubscribes from this category alone."""
        return self.unsubscribe_tokens.get(category)


_SMS_UNSUBSCRIBE = {
    Language.CS: "Odhlásit:",
    Language.EN: "Unsubscribe:",
    Language.DE: "Abmelden:",
    Language.PL: "Wypisz:",
    Language.UK: "Відписатися:",
}


def sms_text(
    text: str,
    *,
    language: Language,
    severity: Severity,
    base_url: str | None,
    token: str | None,
    gsm7: bool = False,
) -> str:
    """The SMS with the registry's short unsubscribe link as a footer (an emergency carries none),
    transliterated to GSM-7 when asked, which fits 160 characters in a segment instead of 70."""
    if severity is not Severity.EMERGENCY and base_url and token:
        text = f"{text}\n{_SMS_UNSUBSCRIBE[language]} {base_url.rstrip('/')}/u/{token}"
    return transliterate(text) if gsm7 else text


def unsubscribe_url(base_url: str | None, recipient: Recipient, category: str) -> str | None:
    """The registry's signed link that unsubscribes from this message's category without signing in."""
    if not base_url:
        return None
    if code := recipient.unsubscribe_code(category):
        return f"{base_url.rstrip('/')}/v1/unsubscribe/{code}"
    if recipient.unsubscribe_token:  # a registry before per-category codes
        return f"{base_url.rstrip('/')}/v1/unsubscribe/{recipient.unsubscribe_token}?category={category}"
    return None


def required_category(category: str | None, severity: Severity | None) -> str | None:
    """The category a subscriber must have chosen to be told: none for an emergency, which reaches everyone
    at the address, nor for a preview that names no category."""
    if category is None or severity is Severity.EMERGENCY:
        return None
    return category


def recipient_delivery_ids(
    *, message_id: UUID, content: Content, recipient: Recipient, contact_secret: str
) -> list[tuple[UUID, Channel, UUID]]:
    """(delivery id, channel, contact id) of each delivery the message would make to the recipient: what
    a failure is recorded under when nothing can be sent to them."""
    return [
        (delivery_id(message_id, channel, value, secret=contact_secret), channel, contact_id)
        for channel in sorted(content.channels() & recipient.contacts.keys())
        for contact_id, value in [recipient.contacts[channel]]
    ]


def delivery_requests(
    *,
    message_id: UUID,
    content: Content,
    severity: Severity,
    category: str,
    recipient: Recipient,
    requested_at: datetime,
    expires_at: datetime | None,
    contact_secret: str,
    unsubscribe_base_url: str | None = None,
    sms_gsm7: bool = False,
) -> list[DeliveryRequest]:
    """One request per channel the message has and the recipient can be reached on."""
    requests: list[DeliveryRequest] = []
    for channel in sorted(content.channels() & recipient.contacts.keys()):
        contact_id, value = recipient.contacts[channel]
        localized = content.for_language(recipient.language, channel)
        common: dict[str, Any] = {
            "delivery_id": delivery_id(message_id, channel, value, secret=contact_secret),
            "message_id": message_id,
            "subscriber_id": recipient.subscriber_id,
            "contact_id": contact_id,
            "lane": lane_for(severity),
            "category": category,
            "requested_at": requested_at,
            "expires_at": expires_at,
        }
        if channel is Channel.SMS:
            assert localized.sms is not None
            text = sms_text(
                localized.sms,
                language=recipient.language if localized is not content.cs else Language.CS,
                severity=severity,
                base_url=unsubscribe_base_url,
                token=recipient.unsubscribe_code(category) or recipient.unsubscribe_token,
                gsm7=sms_gsm7,
            )
            requests.append(SendSms(**common, to=value, text=text))
        elif channel is Channel.EMAIL:
            assert localized.email is not None
            requests.append(
                SendEmail(
                    **common,
                    to=value,
                    subject=localized.email.subject,
                    text=localized.email.text,
                    html=localized.email.html,
                    # an emergency reaches everyone at the address whatever they chose: a one-click link
                    # that cannot stop it would only mislead
                    unsubscribe_url=None
                    if severity is Severity.EMERGENCY
                    else unsubscribe_url(unsubscribe_base_url, recipient, category),
                )
            )
        else:
            assert localized.push is not None
            requests.append(
                SendPush(
                    **common,
                    token=value,
                    title=localized.push.title,
                    body=localized.push.body,
                    data={"category": category, "severity": severity.value},
                )
            )
    return requests


def sms_lengths(
    content: Content, *, severity: Severity, gsm7: bool, base_url: str | None, token_length: int = 12
) -> dict[Language, SmsLength]:
    """Per language with an SMS: its length as a subscriber gets it, unsubscribe footer included."""
    lengths: dict[Language, SmsLength] = {}
    for language in Language:
        own: ChannelContent | None = getattr(content, language.value)
        if own is not None and own.sms is not None:
            text = sms_text(
                own.sms,
                language=language,
                severity=severity,
                base_url=base_url,
                token="x" * token_length,
                gsm7=gsm7,
            )
            lengths[language] = measure(text)
    return lengths

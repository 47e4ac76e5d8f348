"""What a batch of recipients comes to: the delivery requests of a message, with the end of each one's
quiet hours, and the deliveries that cannot be made. Pure but for the audience it reads."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from prometheus_client import Counter

from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_composer.adapters.recipients import Audience
from hlasatel_composer.domain.deliveries import rank
from hlasatel_composer.domain.messages import Content, Severity
from hlasatel_composer.domain.requests import Recipient, delivery_requests, recipient_delivery_ids
from hlasatel_composer.domain.schedule import quiet_until
from hlasatel_composer.domain.targeting import Target, TargetFilters
from hlasatel_contracts import Channel, DeliveryRequest, DeliveryState
from hlasatel_runtime.errors import describe

log = logging.getLogger(__name__)

SKIPPED = Counter(
    "hlasatel_composer_recipients_skipped_total",
    "Deliveries recorded failed because their subscriber's record or the message could not be used",
)


@dataclass(frozen=True)
class Unsendable:
    """A delivery that cannot be made (its subscriber's record cannot be read): recorded failed, with why."""

    delivery_id: UUID
    subscriber_id: UUID
    contact_id: UUID
    channel: Channel
    reason: str


@dataclass
class Planned:
    """What a batch of recipients comes to: requests, each with the end of its quiet hours if they are on
    now, and the deliveries that cannot be made."""

    requests: list[tuple[DeliveryRequest, datetime | None]] = field(default_factory=list)
    unsendable: list[Unsendable] = field(default_factory=list)


class MessageUnusable(Exception):
    """The stored message itself cannot be sent (its content or target does not read): it fails alone."""


def audience_of(message: MessageRow) -> Audience:
    """An update reaches whoever its original reached; anything else, its own target."""
    if message.follows is not None:
        return Audience(follows=message.follows, unless_at=message.unless_at)
    filters = Target.model_validate(message.target).filters if message.target else TargetFilters()
    return Audience(
        resolution_id=message.id,
        filters=filters,
        category=message.category,
        severity=Severity(message.severity),
    )


def planned_requests(
    message: MessageRow,
    recipients: list[Recipient],
    now: datetime,
    *,
    unsubscribe_base_url: str | None,
    contact_secret: str,
) -> Planned:
    """Each request of the message to these recipients, with the end of its subscriber's quiet hours if
    they are on now, and what cannot be made for a recipient whose record does not read. The same message,
    recipients and contacts always give the same delivery ids."""
    try:
        content = Content.model_validate(message.content)
        severity = Severity(message.severity)
    except Exception as exc:
        raise MessageUnusable(describe(exc)) from None
    planned: dict[UUID, tuple[DeliveryRequest, datetime | None]] = {}
    unsendable: dict[UUID, Unsendable] = {}
    for recipient in recipients:
        try:
            if recipient.problem is not None:
                raise RecipientUnusable(recipient.problem)
            held_until = None if severity is Severity.EMERGENCY else quiet_until(recipient.quiet_hours, now)
            made = delivery_requests(
                message_id=message.id,
                content=content,
                severity=severity,
                category=message.category,
                recipient=recipient,
                requested_at=now,
                unsubscribe_base_url=unsubscribe_base_url,
                contact_secret=contact_secret,
                expires_at=message.expires_at,
                sms_gsm7=message.sms_transliterate,
            )
        except Exception as exc:  # one subscriber's record never stops the batch
            reason = (
                recipient.problem or f"the message could not be made for this subscriber: {describe(exc)}"
            )
            ids = recipient_delivery_ids(
                message_id=message.id, content=content, recipient=recipient, contact_secret=contact_secret
            )
            for delivery_id, channel, contact_id in ids:
                unsendable.setdefault(
                    delivery_id, Unsendable(delivery_id, recipient.subscriber_id, contact_id, channel, reason)
                )
            continue
        for request in made:
            # two subscriptions with the same phone, address or token: one delivery, for the first
            planned.setdefault(request.delivery_id, (request, held_until))
    return Planned(
        requests=list(planned.values()),
        unsendable=[u for u in unsendable.values() if u.delivery_id not in planned],
    )


class RecipientUnusable(Exception):
    """The subscriber's record cannot be used; the message says why (never a contact)."""


def unsendable_row(message_id: UUID, unsendable: Unsendable, now: datetime) -> dict[str, Any]:
    return {
        "delivery_id": unsendable.delivery_id,
        "message_id": message_id,
        "subscriber_id": unsendable.subscriber_id,
        "contact_id": unsendable.contact_id,
        "channel": unsendable.channel.value,
        "state": DeliveryState.FAILED.value,
        "rank": rank(DeliveryState.FAILED, retryable=False),
        "reason": unsendable.reason[:500],
        "updated_at": now,
        "not_before": None,
        "held_request": None,
    }


def delivery_row(request: DeliveryRequest, held_until: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "delivery_id": request.delivery_id,
        "message_id": request.message_id,
        "subscriber_id": request.subscriber_id,
        "contact_id": request.contact_id,
        "channel": request.channel.value,
        "state": DeliveryState.QUEUED.value,
        "rank": 0,
        "reason": None,
        "updated_at": now,
        "not_before": held_until,
        "held_request": request.model_dump(mode="json") if held_until else None,
    }

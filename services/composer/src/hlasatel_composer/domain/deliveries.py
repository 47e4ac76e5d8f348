"""Delivery ids, the order in which statuses may replace each other, and the changes of a delivery's state
that the composer makes itself (a status from a dispatcher is recorded in bulk, by rank, in SQL)."""

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from hlasatel_contracts import Channel, DeliveryState

_NAMESPACE = uuid.UUID("6b1f3f0e-4d8e-4a7f-9a51-6c9b1f6a2d10")

_RANK = {
    DeliveryState.QUEUED: 0,
    DeliveryState.FAILED: 1,
    DeliveryState.ACCEPTED: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.EXPIRED: 3,
    DeliveryState.CONTACT_INVALID: 3,
    DeliveryState.CANCELLED: 3,
}


def delivery_id(message_id: UUID, channel: Channel, contact_value: str, *, secret: str) -> UUID:
    """The same message to the same phone, address or token always has the same id, so nobody is told twice.

    It is keyed by the contact itself, not by the subscription: a phone registered by two subscriptions
    still gets one SMS. The contact is hashed with a secret so that an id in a log cannot be traced back.
    """
    contact = hmac.new(
        secret.encode(), f"{channel.value}:{contact_value}".encode(), hashlib.sha256
    ).hexdigest()
    return uuid.uuid5(_NAMESPACE, f"{message_id}/{channel.value}/{contact}")


def rank(state: DeliveryState, *, retryable: bool) -> int:
    """How far a delivery has got; a permanent failure is as final as a delivery."""
    if state is DeliveryState.FAILED and not retryable:
        return 3
    return _RANK[state]


class DeliveryRecord(Protocol):
    """What a delivery's record holds of its state."""

    state: str
    reason: str | None
    rank: int
    updated_at: datetime


def settled(state: DeliveryState, *, reason: str | None, at: datetime) -> dict[str, Any]:
    """What a delivery's record holds once the composer decides on it itself: given up on after its
    re-drives, released from quiet hours (queued again), failed because its held request could not be
    read, or cancelled with its message. Also the values of a bulk UPDATE of many such deliveries."""
    return {
        "state": state.value,
        "reason": reason[:500] if reason else None,
        "rank": rank(state, retryable=False),
        "updated_at": at,
    }


def settle(record: DeliveryRecord, state: DeliveryState, *, reason: str | None, at: datetime) -> None:
    """One delivery the composer decides on itself (see `settled`)."""
    for field, value in settled(state, reason=reason, at=at).items():
        setattr(record, field, value)

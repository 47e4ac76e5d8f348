"""Delivery ids and the order in which statuses may replace each other."""

import uuid
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
}


def delivery_id(message_id: UUID, subscriber_id: UUID, channel: Channel) -> UUID:
    """The same message, subscriber and channel always give the same id, so nobody is told twice."""
    return uuid.uuid5(_NAMESPACE, f"{message_id}/{subscriber_id}/{channel.value}")


def rank(state: DeliveryState, *, retryable: bool) -> int:
    """How far a delivery has got; a permanent failure is as final as a delivery."""
    if state is DeliveryState.FAILED and not retryable:
        return 3
    return _RANK[state]

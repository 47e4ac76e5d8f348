"""A synthetic city: subscribers spread over real address points, for benchmarks and fault tests."""

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from hlasatel_contracts import (
    CATEGORIES,
    AddressPoint,
    AddressRole,
    Channel,
    Contact,
    IdentityLevel,
    Language,
    SubscribedAddress,
    SubscriberChanged,
)

CONTACT_SHARE = {Channel.PUSH: 0.6, Channel.EMAIL: 0.5, Channel.SMS: 0.4}


def contact_values(number: int, rng: random.Random) -> dict[Channel, str]:
    """Push 60 %, e-mail 50 %, SMS 40 %, drawn independently; the 12 % drawn none get one by those weights.

    Every value is the subscriber's own, so no two subscribers share a contact.
    """
    values = {
        Channel.PUSH: f"city{number:07d}:{rng.randbytes(75).hex()}",  # an FCM token's length
        Channel.EMAIL: f"obcan.{number}@example.org",
        Channel.SMS: f"+420{700_000_000 + number}",
    }
    chosen = [channel for channel, share in CONTACT_SHARE.items() if rng.random() < share]
    if not chosen:
        chosen = rng.choices(list(CONTACT_SHARE), weights=list(CONTACT_SHARE.values()))
    return {channel: values[channel] for channel in chosen}


def subscribers(points: list[AddressPoint], count: int, rng: random.Random) -> Iterator[SubscriberChanged]:
    """Round-robin over the address points in a shuffled order (so a small run is spread over the whole
    city too), every category, verified and active contacts, version 1."""
    points = rng.sample(points, len(points))
    now = datetime.now(UTC)
    for number in range(count):
        contacts = [
            Contact(
                contact_id=uuid.UUID(int=rng.getrandbits(128)),
                channel=channel,
                value=value,
                verified=True,
                active=True,
            )
            for channel, value in contact_values(number, rng).items()
        ]
        yield SubscriberChanged(
            subscriber_id=uuid.UUID(int=rng.getrandbits(128)),
            version=1,
            occurred_at=now,
            language=Language.CS,
            identity_level=IdentityLevel.SELF_DECLARED,
            categories=list(CATEGORIES),
            addresses=[SubscribedAddress(address=points[number % len(points)], role=AddressRole.RESIDENT)],
            contacts=contacts,
        )

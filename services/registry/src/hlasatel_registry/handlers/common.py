"""What the registry's use cases share: snapshots for the changelog, API views, announcing a change."""

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_contracts import (
    CATEGORIES,
    SUBSCRIBERS,
    AddressPoint,
    AddressRole,
    Channel,
    Contact,
    IdentityLevel,
    Language,
    QuietHours,
    SubscribedAddress,
    SubscriberChanged,
)
from hlasatel_contracts.addresses import label
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.orm import AddressPointRow, ContactRow, SubscriberRow, UnsubscribeCodeRow
from hlasatel_registry.domain.codes import hashed_by_any, short_mac
from hlasatel_registry.schemas import AddressRead, ContactRead, SubscribedAddressRead, SubscriberRead
from hlasatel_runtime.errors import SafeError
from hlasatel_runtime.secrets import KeyRing

# what an unsubscribe code may be good for: one category, or every non-emergency message
ALL = "all"
UNSUBSCRIBE_SCOPES = (*CATEGORIES, ALL)


def address_snapshot(row: AddressPointRow) -> AddressPoint:
    """The address point as the bus describes it, from its row."""
    return AddressPoint.model_validate(row, from_attributes=True)


def changelog_event(subscriber: SubscriberRow) -> SubscriberChanged:
    """The subscriber's full current state as the changelog carries it."""
    return SubscriberChanged(
        subscriber_id=subscriber.id,
        version=subscriber.version,
        occurred_at=subscriber.updated_at,
        language=Language(subscriber.language),
        identity_level=IdentityLevel(subscriber.identity_level),
        categories=list(subscriber.categories),
        quiet_hours=QuietHours.model_validate(subscriber.quiet_hours) if subscriber.quiet_hours else None,
        addresses=[
            SubscribedAddress(address=address_snapshot(link.address), role=AddressRole(link.role))
            for link in subscriber.addresses
        ],
        contacts=[
            Contact(
                contact_id=c.id,
                channel=Channel(c.channel),
                value=c.value,
                verified=c.verified_at is not None,
                active=c.active,
            )
            for c in subscriber.contacts
        ],
        unsubscribe_token=subscriber.unsubscribe_code,
        unsubscribe_tokens={row.scope: row.code for row in subscriber.unsubscribe_codes},
    )


def subscriber_read(subscriber: SubscriberRow) -> SubscriberRead:
    return SubscriberRead(
        id=subscriber.id,
        version=subscriber.version,
        language=Language(subscriber.language),
        identity_level=IdentityLevel(subscriber.identity_level),
        categories=list(subscriber.categories),
        quiet_hours=QuietHours.model_validate(subscriber.quiet_hours) if subscriber.quiet_hours else None,
        addresses=[
            SubscribedAddressRead(
                address_point=link.address_point_code,
                role=AddressRole(link.role),
                label=label(link.address),
            )
            for link in subscriber.addresses
        ],
        contacts=[
            ContactRead(
                id=c.id,
                channel=Channel(c.channel),
                value=c.value,
                verified=c.verified_at is not None,
                active=c.active,
            )
            for c in subscriber.contacts
        ],
        created_at=subscriber.created_at,
        updated_at=subscriber.updated_at,
    )


def address_read(row: AddressPointRow) -> AddressRead:
    return AddressRead(
        code=row.code,
        label=label(row),
        district_code=row.district_code,
        district=row.district,
        street=row.street,
        building_kind=row.building_kind,
        building_number=row.building_number,
        orientation_number=row.orientation_number,
        orientation_letter=row.orientation_letter,
        postcode=row.postcode,
        latitude=row.latitude,
        longitude=row.longitude,
    )


class NotAuthorized(SafeError):
    """The subscriber does not exist or the token is not theirs."""


class NotFound(SafeError):
    """No such subscriber or contact."""


async def authorized_subscriber(
    session: AsyncSession, *, keys: KeyRing, subscriber_id: UUID, token: str | None
) -> SubscriberRow:
    """The subscriber whose access token this is; the same error whether the id or the token is wrong."""
    subscriber = await session.get(SubscriberRow, subscriber_id, with_for_update=True)
    if (
        subscriber is None
        or not token
        or not hashed_by_any(keys.all, subscriber.access_token_hash, "access", token)
    ):
        raise NotAuthorized("not authorized for this subscriber")
    return subscriber


def unsubscribe_code(keys: KeyRing, subscriber_id: UUID, scope: str) -> str:
    """The code of one scope: 'all' is the code subscribers have had from the start, in SMS footers sent
    before codes were per category."""
    parts = (str(subscriber_id),) if scope == ALL else (str(subscriber_id), scope)
    return short_mac(keys.current, "unsubscribe", *parts)


def ensure_unsubscribe_codes(keys: KeyRing, subscriber: SubscriberRow) -> None:
    """A code for each category and for 'all', made once and kept (links already sent keep working)."""
    have = {row.scope for row in subscriber.unsubscribe_codes}
    for scope in UNSUBSCRIBE_SCOPES:
        if scope not in have:
            code = (
                subscriber.unsubscribe_code if scope == ALL else unsubscribe_code(keys, subscriber.id, scope)
            )
            subscriber.unsubscribe_codes.append(UnsubscribeCodeRow(code=code, scope=scope))


def contact_of(subscriber: SubscriberRow, contact_id: UUID) -> ContactRow:
    for contact in subscriber.contacts:
        if contact.id == contact_id:
            return contact
    raise NotFound("no such contact")


async def announce(session: AsyncSession, subscriber: SubscriberRow, keys: KeyRing) -> None:
    """Record a change: a new version, and its full state on the changelog in the same transaction."""
    if "unsubscribe_codes" in inspect(subscriber).unloaded:
        await session.refresh(subscriber, ["unsubscribe_codes"])
    ensure_unsubscribe_codes(keys, subscriber)
    subscriber.version += 1
    subscriber.updated_at = datetime.now(UTC)
    await session.flush()
    outbox.enqueue(session, topic=SUBSCRIBERS, key=str(subscriber.id), event=changelog_event(subscriber))

"""The targeting index: the registry changelog projected into tables, replay-safe by version."""

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import IndexedAddress, IndexedContact, IndexedSubscriber
from hlasatel_contracts import SubscriberChanged, SubscriberErased


async def apply_subscriber_event(session: AsyncSession, event: SubscriberChanged | SubscriberErased) -> bool:
    """Apply one changelog record; an older or repeated version changes nothing."""
    current = await session.get(IndexedSubscriber, event.subscriber_id)
    if current is not None and current.version >= event.version:
        return False
    if current is None:
        current = IndexedSubscriber(subscriber_id=event.subscriber_id, version=event.version)
        session.add(current)
    await session.execute(delete(IndexedAddress).where(IndexedAddress.subscriber_id == event.subscriber_id))
    await session.execute(delete(IndexedContact).where(IndexedContact.subscriber_id == event.subscriber_id))
    current.version = event.version
    if isinstance(event, SubscriberErased):
        current.erased = True
        current.language = current.identity_level = None
        current.categories = current.quiet_hours = current.unsubscribe_token = None
        return True
    current.erased = False
    current.language = event.language.value
    current.identity_level = event.identity_level.value
    current.categories = list(event.categories)
    current.quiet_hours = event.quiet_hours.model_dump(mode="json") if event.quiet_hours else None
    current.unsubscribe_token = event.unsubscribe_token
    session.add_all(
        IndexedAddress(
            subscriber_id=event.subscriber_id,
            address_point_code=link.address.code,
            role=link.role.value,
            district_code=link.address.district_code,
            district=link.address.district,
            street=link.address.street,
            building_kind=link.address.building_kind.value,
            building_number=link.address.building_number,
            orientation_number=link.address.orientation_number,
            orientation_letter=link.address.orientation_letter,
            latitude=link.address.latitude,
            longitude=link.address.longitude,
        )
        for link in event.addresses
    )
    session.add_all(
        IndexedContact(
            contact_id=contact.contact_id,
            subscriber_id=event.subscriber_id,
            channel=contact.channel.value,
            value=contact.value,
            verified=contact.verified,
            active=contact.active,
            position=position,
        )
        for position, contact in enumerate(event.contacts)
    )
    return True

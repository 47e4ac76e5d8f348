"""The targeting index: the registry changelog projected into tables, replay-safe by version."""

from collections.abc import Iterable, Sequence
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import IndexedAddress, IndexedContact, IndexedPoint, IndexedSubscriber
from hlasatel_contracts import AddressPoint, SubscriberChanged, SubscriberErased

SubscriberRecord = SubscriberChanged | SubscriberErased


def _newest(events: Iterable[SubscriberRecord]) -> dict[UUID, SubscriberRecord]:
    newest: dict[UUID, SubscriberRecord] = {}
    for event in events:
        known = newest.get(event.subscriber_id)
        if known is None or event.version > known.version:
            newest[event.subscriber_id] = event
    return newest


async def apply_subscriber_events(session: AsyncSession, events: Sequence[SubscriberRecord]) -> int:
    """Apply a batch of changelog records; an older or repeated version changes nothing. Returns how many
    subscribers changed."""
    newest = _newest(events)
    current = {
        row.subscriber_id: row
        for row in await session.scalars(
            select(IndexedSubscriber).where(IndexedSubscriber.subscriber_id.in_(newest))
        )
    }
    changed = [e for sid, e in newest.items() if sid not in current or current[sid].version < e.version]
    if not changed:
        return 0
    ids = [event.subscriber_id for event in changed]
    await session.execute(delete(IndexedAddress).where(IndexedAddress.subscriber_id.in_(ids)))
    await session.execute(delete(IndexedContact).where(IndexedContact.subscriber_id.in_(ids)))
    await _remember_points(
        session, [link.address for e in changed if isinstance(e, SubscriberChanged) for link in e.addresses]
    )
    for event in changed:
        row = current.get(event.subscriber_id)
        if row is None:
            row = IndexedSubscriber(subscriber_id=event.subscriber_id, version=event.version)
            session.add(row)
        _project(session, row, event)
    return len(changed)


async def apply_subscriber_event(session: AsyncSession, event: SubscriberRecord) -> bool:
    """Apply one changelog record; an older or repeated version changes nothing."""
    return await apply_subscriber_events(session, [event]) == 1


def _project(session: AsyncSession, row: IndexedSubscriber, event: SubscriberRecord) -> None:
    row.version = event.version
    if isinstance(event, SubscriberErased):
        row.erased = True
        row.language = row.identity_level = None
        row.categories = row.quiet_hours = row.unsubscribe_token = None
        return
    row.erased = False
    row.language = event.language.value
    row.identity_level = event.identity_level.value
    row.categories = list(event.categories)
    row.quiet_hours = event.quiet_hours.model_dump(mode="json") if event.quiet_hours else None
    row.unsubscribe_token = event.unsubscribe_token
    session.add_all(
        IndexedAddress(
            subscriber_id=event.subscriber_id, address_point_code=link.address.code, role=link.role.value
        )
        for link in {link.address.code: link for link in event.addresses}.values()
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


_POINT_FIELDS = (
    "district_code",
    "district",
    "street",
    "building_kind",
    "building_number",
    "orientation_number",
    "orientation_letter",
    "postcode",
    "latitude",
    "longitude",
)


async def _remember_points(session: AsyncSession, points: list[AddressPoint]) -> None:
    """Keep each address point as the newest record describes it (a re-import may move or renumber it)."""
    by_code = {point.code: point for point in points}
    if not by_code:
        return
    known = {
        row.code: row
        for row in await session.scalars(select(IndexedPoint).where(IndexedPoint.code.in_(by_code)))
    }
    for code, point in by_code.items():
        values = point.model_dump(include=set(_POINT_FIELDS), mode="json")
        if code in known:
            for name, value in values.items():
                setattr(known[code], name, value)
        else:
            session.add(IndexedPoint(code=code, **values))

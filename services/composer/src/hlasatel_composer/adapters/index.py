"""The targeting index: the registry changelog projected into tables, replay-safe by version."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import (
    DeliveryRow,
    IndexedAddress,
    IndexedCategory,
    IndexedContact,
    IndexedPoint,
    IndexedSubscriber,
)
from hlasatel_composer.domain.deliveries import rank
from hlasatel_contracts import AddressPoint, Channel, DeliveryState, SubscriberChanged, SubscriberErased
from hlasatel_runtime.database import insert_rows

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
    versions = dict(
        (
            await session.execute(
                select(IndexedSubscriber.subscriber_id, IndexedSubscriber.version).where(
                    IndexedSubscriber.subscriber_id.in_(newest)
                )
            )
        ).all()
    )
    changed = [e for sid, e in newest.items() if versions.get(sid, 0) < e.version]
    if not changed:
        return 0
    ids = [event.subscriber_id for event in changed]
    # rows are replaced rather than updated: a few statements for the whole batch
    for table in (IndexedSubscriber, IndexedAddress, IndexedContact, IndexedCategory):
        await session.execute(delete(table).where(table.subscriber_id.in_(ids)))
    alive = [event for event in changed if isinstance(event, SubscriberChanged)]
    await _remember_points(session, [link.address for event in alive for link in event.addresses])
    await insert_rows(session, IndexedSubscriber, [_subscriber(event) for event in changed])
    await insert_rows(session, IndexedAddress, [row for event in alive for row in _addresses(event)])
    await insert_rows(session, IndexedContact, [row for event in alive for row in _contacts(event)])
    await insert_rows(
        session,
        IndexedCategory,
        [
            {"subscriber_id": event.subscriber_id, "category": category}
            for event in alive
            for category in set(event.categories)
        ],
    )
    await _drop_held_for_gone_contacts(session, ids)
    return len(changed)


async def _drop_held_for_gone_contacts(session: AsyncSession, subscriber_ids: list[UUID]) -> None:
    """A delivery held for quiet hours keeps its request, contact and all: once its subscriber is erased or
    the contact withdrawn, it is cancelled and the copy goes at once, not when the quiet hours end."""
    reachable = select(IndexedContact.contact_id).where(
        IndexedContact.verified.is_(True), IndexedContact.active.is_(True)
    )
    await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.subscriber_id.in_(subscriber_ids),
            DeliveryRow.held_request.is_not(None),
            DeliveryRow.contact_id.not_in(reachable),
        )
        .values(
            state=DeliveryState.CANCELLED.value,
            rank=rank(DeliveryState.CANCELLED, retryable=False),
            reason="the subscriber was erased or withdrew the contact meanwhile",
            held_request=None,
            updated_at=datetime.now(UTC),
        )
    )


async def apply_subscriber_event(session: AsyncSession, event: SubscriberRecord) -> bool:
    """Apply one changelog record; an older or repeated version changes nothing."""
    return await apply_subscriber_events(session, [event]) == 1


def _subscriber(event: SubscriberRecord) -> dict[str, Any]:
    if isinstance(event, SubscriberErased):
        return {
            "subscriber_id": event.subscriber_id,
            "version": event.version,
            "erased": True,
            "language": None,
            "identity_level": None,
            "quiet_hours": None,
            "unsubscribe_token": None,
            "unsubscribe_tokens": None,
        }
    return {
        "subscriber_id": event.subscriber_id,
        "version": event.version,
        "erased": False,
        "language": event.language.value,
        "identity_level": event.identity_level.value,
        "quiet_hours": event.quiet_hours.model_dump(mode="json") if event.quiet_hours else None,
        "unsubscribe_token": event.unsubscribe_token,
        "unsubscribe_tokens": dict(event.unsubscribe_tokens) or None,
    }


def _addresses(event: SubscriberChanged) -> list[dict[str, Any]]:
    """One row per address point, however many times the record lists it."""
    return [
        {"subscriber_id": event.subscriber_id, "address_point_code": code, "role": link.role.value}
        for code, link in {link.address.code: link for link in event.addresses}.items()
    ]


def _contacts(event: SubscriberChanged) -> list[dict[str, Any]]:
    """Every contact; the first verified, active one of each channel is the one messages go to."""
    chosen: dict[Channel, UUID] = {}
    for contact in event.contacts:
        if contact.verified and contact.active:
            chosen.setdefault(contact.channel, contact.contact_id)
    return [
        {
            "contact_id": contact.contact_id,
            "subscriber_id": event.subscriber_id,
            "channel": contact.channel.value,
            "value": contact.value,
            "verified": contact.verified,
            "active": contact.active,
            "chosen": chosen.get(contact.channel) == contact.contact_id,
        }
        for contact in event.contacts
    ]


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
    described = {point.code: point.model_dump(include=set(_POINT_FIELDS), mode="json") for point in points}
    if not described:
        return
    columns = [getattr(IndexedPoint, name) for name in _POINT_FIELDS]
    known = {
        row[0]: dict(zip(_POINT_FIELDS, row[1:], strict=True))
        for row in await session.execute(
            select(IndexedPoint.code, *columns).where(IndexedPoint.code.in_(described))
        )
    }
    await insert_rows(
        session,
        IndexedPoint,
        [{"code": code, **values} for code, values in described.items() if code not in known],
    )
    for code, values in described.items():
        if code in known and known[code] != values:
            await session.execute(update(IndexedPoint).where(IndexedPoint.code == code).values(**values))

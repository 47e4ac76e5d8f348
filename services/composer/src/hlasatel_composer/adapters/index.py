"""The targeting index: the registry changelog projected into tables, replay-safe by version."""

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import (
    DeliveryRow,
    IndexedAddress,
    IndexedContact,
    IndexedPoint,
    IndexedSubscriber,
)
from hlasatel_composer.adapters.register import POINT_FIELDS, changed_register
from hlasatel_composer.domain.deliveries import rank
from hlasatel_contracts import (
    CATEGORIES,
    AddressPoint,
    Channel,
    DeliveryState,
    SubscriberChanged,
    SubscriberErased,
)
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
    for table in (IndexedSubscriber, IndexedAddress, IndexedContact):
        await session.execute(delete(table).where(table.subscriber_id.in_(ids)))
    alive = [event for event in changed if isinstance(event, SubscriberChanged)]
    await _remember_points(session, [link.address for event in alive for link in event.addresses])
    contacts = {event.subscriber_id: _contacts(event) for event in alive}
    await insert_rows(session, IndexedSubscriber, [_subscriber(event) for event in changed])
    await insert_rows(
        session,
        IndexedAddress,
        [row for event in alive for row in _addresses(event, contacts[event.subscriber_id])],
    )
    await insert_rows(session, IndexedContact, [row for rows in contacts.values() for row in rows])
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


def category_bits(categories: Iterable[str]) -> int:
    """The categories as bits in the order of CATEGORIES (a name the contract does not know is no bit)."""
    return sum(1 << CATEGORIES.index(name) for name in set(categories) if name in CATEGORIES)


def contact_digest(value: str) -> int:
    """A contact's value as a positive 63-bit number: two subscribers with one phone count once, and the
    index's counting rows hold no contact."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big") >> 1


def _addresses(event: SubscriberChanged, contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per address point, however many times the record lists it, with what an audience is
    decided and counted by."""
    chosen = {row["channel"]: contact_digest(row["value"]) for row in contacts if row["chosen"]}
    return [
        {
            "subscriber_id": event.subscriber_id,
            "address_point_code": code,
            "role": link.role.value,
            "language": event.language.value,
            "identity_level": event.identity_level.value,
            "categories": category_bits(event.categories),
            **{channel.value: chosen.get(channel.value) for channel in Channel},
        }
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


async def _remember_points(session: AsyncSession, points: list[AddressPoint]) -> None:
    """An address point the register has not described yet is kept as the subscriber records describe it
    (version 0), so that its subscribers can be reached before the register's record arrives; the
    register's own record (version 1 and on) always wins."""
    described = {point.code: point.model_dump(include=set(POINT_FIELDS), mode="json") for point in points}
    if not described:
        return
    columns = [getattr(IndexedPoint, name) for name in POINT_FIELDS]
    known = {
        row[0]: (row[1], dict(zip(POINT_FIELDS, row[2:], strict=True)))
        for row in await session.execute(
            select(IndexedPoint.code, IndexedPoint.version, *columns).where(IndexedPoint.code.in_(described))
        )
    }
    new = [{"code": code, "version": 0, **values} for code, values in described.items() if code not in known]
    moved = [
        (code, values)
        for code, values in described.items()
        if code in known and known[code][0] == 0 and known[code][1] != values
    ]
    await insert_rows(session, IndexedPoint, new)
    for code, values in moved:
        await session.execute(update(IndexedPoint).where(IndexedPoint.code == code).values(**values))
    if new or moved:
        await changed_register(session)

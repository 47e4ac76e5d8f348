"""Resolving a target to recipients, streamed from the index in batches ordered by subscriber id."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import IndexedAddress, IndexedContact, IndexedSubscriber
from hlasatel_composer.domain.messages import Target
from hlasatel_composer.domain.requests import Recipient
from hlasatel_contracts import Channel, Language


def target_clause(target: Target) -> ColumnElement[bool]:
    """The address points a target selects, as a condition on the index."""
    clauses: list[ColumnElement[bool]] = []
    if target.city:
        clauses.append(true())
    if target.districts:
        clauses.append(IndexedAddress.district.in_(target.districts))
    for street in target.streets:
        on_street = IndexedAddress.street == street.name
        clauses.append(
            and_(on_street, IndexedAddress.district == street.district) if street.district else on_street
        )
    if target.address_points:
        clauses.append(IndexedAddress.address_point_code.in_(target.address_points))
    return or_(*clauses)


def address_conditions(target: Target) -> list[ColumnElement[bool]]:
    """The addresses a target selects, in the roles it asks for."""
    conditions: list[ColumnElement[bool]] = [target_clause(target)]
    if target.filters.roles:
        conditions.append(IndexedAddress.role.in_([role.value for role in target.filters.roles]))
    return conditions


def person_conditions(target: Target) -> list[ColumnElement[bool]]:
    """The subscribers a target may reach: not erased, at the identity level it asks for."""
    conditions: list[ColumnElement[bool]] = [IndexedSubscriber.erased.is_(False)]
    if target.filters.identity_level is not None:
        conditions.append(IndexedSubscriber.identity_level == target.filters.identity_level.value)
    return conditions


def subscriber_conditions(target: Target) -> list[ColumnElement[bool]]:
    """Who a target reaches: someone with a matching address, in the role and at the identity level asked."""
    at_address = select(IndexedAddress.subscriber_id).where(
        IndexedAddress.subscriber_id == IndexedSubscriber.subscriber_id, *address_conditions(target)
    )
    return [*person_conditions(target), at_address.exists()]


async def recipients_after(
    session: AsyncSession, *, target: Target, after: UUID | None, limit: int
) -> list[Recipient]:
    """The next batch of subscribers the target reaches, each once however many of its addresses match."""
    query = (
        select(
            IndexedSubscriber.subscriber_id,
            IndexedSubscriber.language,
            IndexedSubscriber.categories,
            IndexedSubscriber.unsubscribe_token,
        )
        .where(*subscriber_conditions(target))
        .order_by(IndexedSubscriber.subscriber_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(IndexedSubscriber.subscriber_id > after)
    subscribers = (await session.execute(query)).all()
    contacts = await _contacts(session, [row.subscriber_id for row in subscribers])
    return [
        Recipient(
            subscriber_id=row.subscriber_id,
            language=Language(row.language),
            categories=tuple(row.categories or ()),
            contacts=contacts.get(row.subscriber_id, {}),
            unsubscribe_token=row.unsubscribe_token,
        )
        for row in subscribers
    ]


async def _contacts(
    session: AsyncSession, subscriber_ids: Sequence[UUID]
) -> dict[UUID, dict[Channel, tuple[UUID, str]]]:
    """The first verified, active contact of each channel: one message per channel and subscriber."""
    if not subscriber_ids:
        return {}
    rows = (
        await session.execute(
            select(
                IndexedContact.subscriber_id,
                IndexedContact.channel,
                IndexedContact.contact_id,
                IndexedContact.value,
            )
            .where(
                IndexedContact.subscriber_id.in_(subscriber_ids),
                IndexedContact.active.is_(True),
                IndexedContact.verified.is_(True),
            )
            .order_by(IndexedContact.subscriber_id, IndexedContact.position)
        )
    ).all()
    found: dict[UUID, dict[Channel, tuple[UUID, str]]] = {}
    for row in rows:
        found.setdefault(row.subscriber_id, {}).setdefault(Channel(row.channel), (row.contact_id, row.value))
    return found


async def preview_counts(
    session: AsyncSession, *, target: Target, category: str | None
) -> tuple[int, int, dict[Channel, int], list[str]]:
    """Address points, subscribers, reachable subscribers per channel and streets a target covers."""
    points = (
        await session.execute(
            select(IndexedAddress.address_point_code, IndexedAddress.street, IndexedAddress.district)
            .join(IndexedSubscriber, IndexedSubscriber.subscriber_id == IndexedAddress.subscriber_id)
            .where(*person_conditions(target), *address_conditions(target))
            .distinct()
        )
    ).all()
    per_channel: dict[Channel, int] = dict.fromkeys(Channel, 0)
    subscribers = 0
    after: UUID | None = None
    while batch := await recipients_after(session, target=target, after=after, limit=1000):
        after = batch[-1].subscriber_id
        for recipient in batch:
            # a subscriber's categories are a short JSON list, filtered here rather than in portable SQL
            if category is not None and category not in recipient.categories:
                continue
            subscribers += 1
            for channel in recipient.contacts:
                per_channel[channel] += 1
    streets = sorted({f"{p.street} ({p.district})" for p in points if p.street})
    return len({p.address_point_code for p in points}), subscribers, per_channel, streets

"""How far a target reaches before sending, and how far a message got after: counted from the database."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import (
    DeliveryCount,
    DeliveryRow,
    HouseholdCount,
    IndexedAddress,
    IndexedPoint,
    MessageHousehold,
    MessageRow,
    TargetPoint,
)
from hlasatel_composer.adapters.recipients import Audience
from hlasatel_composer.domain.deliveries import rank
from hlasatel_contracts import Channel, DeliveryState

# a row of the report per household: the address point's facts and its deliveries counted per state
Household = Row[*tuple[Any, ...]]

REACHED = (DeliveryState.ACCEPTED.value, DeliveryState.DELIVERED.value)


@dataclass
class Reach:
    """Who an audience is: subscribers, the address points they are reached at, deliveries per channel."""

    households: int = 0
    subscribers: int = 0
    deliveries: dict[Channel, int] = field(default_factory=lambda: dict.fromkeys(Channel, 0))


async def measure_reach(session: AsyncSession, *, audience: Audience, channels: set[Channel]) -> Reach:
    """Counts the audience as the fan-out would send to it: one delivery per contact and channel, however
    many subscribers share the contact. One aggregate over the audience's rows of the index."""
    rows = IndexedAddress
    counted = (
        await session.execute(
            audience.rows(
                func.count(func.distinct(rows.subscriber_id)),
                func.count(func.distinct(rows.address_point_code)),
                *(func.count(func.distinct(getattr(rows, channel.value))) for channel in Channel),
            )
        )
    ).one()
    subscribers, at_points, *per_channel = counted
    households: int | None = at_points
    if audience.follows is not None:
        at = audience.households_of().subquery()
        households = await session.scalar(select(func.count(func.distinct(at.c.address_point_code))))
    deliveries = dict(zip(Channel, per_channel, strict=True))
    return Reach(
        households=households or 0,
        subscribers=subscribers or 0,
        deliveries={channel: deliveries[channel] or 0 for channel in channels},
    )


# a failure the dispatcher will try again (its rank is below a final state's) is counted as `retrying`,
# so that an operator watching a send can tell it from a delivery given up on
RETRYING = "retrying"
_reported_state = case(
    (
        (DeliveryRow.state == DeliveryState.FAILED.value)
        & (DeliveryRow.rank < rank(DeliveryState.FAILED, retryable=False)),
        RETRYING,
    ),
    else_=DeliveryRow.state,
)


async def delivery_counts(session: AsyncSession, message_id: UUID) -> dict[str, dict[str, int]]:
    """Per channel, how many deliveries are in each state (`retrying` for a failure to be tried again);
    of a message whose deliveries were deleted, the counts kept."""
    kept = (
        await session.execute(
            select(DeliveryCount.channel, DeliveryCount.state, DeliveryCount.count).where(
                DeliveryCount.message_id == message_id
            )
        )
    ).all()
    if kept:
        counts: dict[str, dict[str, int]] = {}
        for channel, state, count in kept:
            counts.setdefault(channel, {})[state] = count
        return counts
    return await live_delivery_counts(session, message_id)


async def live_delivery_counts(session: AsyncSession, message_id: UUID) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        select(DeliveryRow.channel, _reported_state, func.count())
        .where(DeliveryRow.message_id == message_id)
        .group_by(DeliveryRow.channel, _reported_state)
    )
    counts: dict[str, dict[str, int]] = {}
    for channel, state, count in rows:
        counts.setdefault(channel, {})[state] = count
    return counts


async def waiting_for_quiet_hours(session: AsyncSession, message_id: UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(
            DeliveryRow.message_id == message_id,
            DeliveryRow.held_request.is_not(None),
            DeliveryRow.not_before > datetime.now(UTC),
        )
    )
    return count or 0


# what a report says of a household's address: the parts of its label
_ADDRESS = (
    IndexedPoint.district,
    IndexedPoint.street,
    IndexedPoint.building_kind,
    IndexedPoint.building_number,
    IndexedPoint.orientation_number,
    IndexedPoint.orientation_letter,
    IndexedPoint.postcode,
)


async def targeted_points(session: AsyncSession, row: MessageRow) -> list[Any]:
    """Every address point of the register the message's target resolved to (an update's: its original's,
    and a released message's less those of the message that replaced it), with its address and place."""
    resolution = row.follows or row.id
    codes = select(TargetPoint.address_point_code).where(TargetPoint.resolution_id == resolution)
    query = select(IndexedPoint.code, *_ADDRESS, IndexedPoint.latitude, IndexedPoint.longitude).where(
        IndexedPoint.code.in_(codes)
    )
    if row.unless_at is not None:
        replaced = select(TargetPoint.address_point_code).where(TargetPoint.resolution_id == row.unless_at)
        query = query.where(IndexedPoint.code.not_in(replaced))
    return list((await session.execute(query)).all())


async def households(session: AsyncSession, message_id: UUID) -> list[Household]:
    """Per address point where someone was sent the message: its address, the subscribers sent it there,
    their deliveries in each state, and whether anyone there was reached (a provider accepted or delivered
    a message)."""
    household = (MessageHousehold.address_point_code, *_ADDRESS)
    per_state = [
        func.sum(case((DeliveryRow.state == state.value, 1), else_=0)).label(state.value)
        for state in DeliveryState
    ]
    query = (
        select(
            *household,
            func.count(func.distinct(MessageHousehold.subscriber_id)).label("subscribers"),
            func.count(DeliveryRow.delivery_id).label("deliveries"),
            *per_state,
        )
        .join(
            DeliveryRow,
            (DeliveryRow.message_id == MessageHousehold.message_id)
            & (DeliveryRow.subscriber_id == MessageHousehold.subscriber_id),
        )
        .join(IndexedPoint, IndexedPoint.code == MessageHousehold.address_point_code, isouter=True)
        .where(MessageHousehold.message_id == message_id)
        .group_by(*household)
        .order_by(IndexedPoint.district, IndexedPoint.street, IndexedPoint.building_number)
    )
    return list((await session.execute(query)).all())


async def purged_recipients(session: AsyncSession, row: MessageRow) -> int:
    """How many subscribers a message reached, as kept when its deliveries were deleted."""
    return row.recipients_kept or 0


async def kept_households(session: AsyncSession, message_id: UUID) -> list[Any]:
    """The per-household counts kept of a message whose deliveries were deleted, with the addresses."""
    query = (
        select(
            HouseholdCount.address_point_code,
            HouseholdCount.subscribers,
            HouseholdCount.deliveries,
            HouseholdCount.states,
            HouseholdCount.reached,
            *_ADDRESS,
        )
        .join(IndexedPoint, IndexedPoint.code == HouseholdCount.address_point_code, isouter=True)
        .where(HouseholdCount.message_id == message_id)
        .order_by(IndexedPoint.district, IndexedPoint.street, IndexedPoint.building_number)
    )
    return list((await session.execute(query)).all())


def reached(household: Household) -> bool:
    """Someone at the household had a message accepted or delivered."""
    return any(getattr(household, state) for state in REACHED)

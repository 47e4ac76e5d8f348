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
    IndexedContact,
    IndexedPoint,
    IndexedSubscriber,
    MessageHousehold,
    MessageRow,
)
from hlasatel_composer.adapters.recipients import Audience
from hlasatel_composer.domain.deliveries import rank
from hlasatel_contracts import Channel, DeliveryState

# a row of the report per household: the address point's facts and its deliveries counted per state
Household = Row[*tuple[Any, ...]]

REACHED = (DeliveryState.ACCEPTED.value, DeliveryState.DELIVERED.value)


@dataclass
class Reach:
    address_points: int = 0
    subscribers: int = 0
    deliveries: dict[Channel, int] = field(default_factory=lambda: dict.fromkeys(Channel, 0))
    streets: list[str] = field(default_factory=list)


async def measure_reach(session: AsyncSession, *, audience: Audience, channels: set[Channel]) -> Reach:
    """Counts the audience as the fan-out would send to it: one delivery per contact and channel, however
    many subscribers share the contact. A few aggregate queries, nothing streamed through Python."""
    subscribers = select(IndexedSubscriber.subscriber_id).where(*audience.conditions())
    deliveries = await session.execute(
        select(IndexedContact.channel, func.count(func.distinct(IndexedContact.value)))
        .where(
            IndexedContact.subscriber_id.in_(subscribers),
            IndexedContact.chosen.is_(True),
            IndexedContact.channel.in_([channel.value for channel in channels]),
        )
        .group_by(IndexedContact.channel)
    )
    households = audience.households_of().subquery()
    points = (
        await session.execute(
            select(IndexedPoint.code, IndexedPoint.street, IndexedPoint.district).where(
                IndexedPoint.code.in_(select(households.c.address_point_code))
            )
        )
    ).all()
    return Reach(
        subscribers=await session.scalar(select(func.count()).select_from(subscribers.subquery())) or 0,
        address_points=len(points),
        deliveries=dict.fromkeys(channels, 0) | {Channel(c): n for c, n in deliveries},
        streets=sorted({f"{p.street} ({p.district})" for p in points if p.street is not None}),
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


async def households(session: AsyncSession, message_id: UUID) -> list[Household]:
    """Per targeted address point: its address, the subscribers sent the message there, their deliveries
    in each state, and whether anyone there was reached (a provider accepted or delivered a message)."""
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

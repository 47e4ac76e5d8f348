"""How far a target reaches before sending, and how far a message got after: counted from the database."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import DeliveryRow, IndexedPoint, MessageHousehold
from hlasatel_composer.adapters.recipients import Audience, recipients_after, streets_of
from hlasatel_composer.domain.messages import Severity
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


async def measure_reach(
    session: AsyncSession,
    *,
    audience: Audience,
    category: str | None,
    severity: Severity | None,
    channels: set[Channel],
    batch_size: int = 2000,
) -> Reach:
    """Streams the audience as the fan-out would and counts it: one delivery per contact and channel."""
    codes: set[int] = set()
    contacts: dict[Channel, set[str]] = {channel: set() for channel in channels}
    reach = Reach()
    after: UUID | None = None
    while batch := await recipients_after(session, audience=audience, after=after, limit=batch_size):
        after = batch[-1].subscriber_id
        chosen = [
            r for r in batch if audience.takes(r, category=category, severity=severity or Severity.INFO)
        ]
        reach.subscribers += len(chosen)
        for recipient in chosen:
            for channel, (_, value) in recipient.contacts.items():
                if channel in contacts:
                    contacts[channel].add(value)
        households = await audience.households(session, [r.subscriber_id for r in chosen])
        codes.update(code for _, code in households)
    reach.address_points = len(codes)
    reach.deliveries = {channel: len(values) for channel, values in contacts.items()}
    reach.streets = await streets_of(session, codes)
    return reach


async def delivery_counts(session: AsyncSession, message_id: UUID) -> dict[str, dict[str, int]]:
    """Per channel, how many deliveries are in each state."""
    rows = await session.execute(
        select(DeliveryRow.channel, DeliveryRow.state, func.count())
        .where(DeliveryRow.message_id == message_id)
        .group_by(DeliveryRow.channel, DeliveryRow.state)
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


async def households(session: AsyncSession, message_id: UUID) -> list[Household]:
    """Per targeted address point: its address, the subscribers sent the message there, their deliveries
    in each state, and whether anyone there was reached (a provider accepted or delivered a message)."""
    per_state = [
        func.sum(case((DeliveryRow.state == state.value, 1), else_=0)).label(state.value)
        for state in DeliveryState
    ]
    query = (
        select(
            MessageHousehold.address_point_code,
            IndexedPoint.district,
            IndexedPoint.street,
            IndexedPoint.building_kind,
            IndexedPoint.building_number,
            IndexedPoint.orientation_number,
            IndexedPoint.orientation_letter,
            IndexedPoint.postcode,
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
        .group_by(
            MessageHousehold.address_point_code,
            IndexedPoint.district,
            IndexedPoint.street,
            IndexedPoint.building_kind,
            IndexedPoint.building_number,
            IndexedPoint.orientation_number,
            IndexedPoint.orientation_letter,
            IndexedPoint.postcode,
        )
        .order_by(IndexedPoint.district, IndexedPoint.street, IndexedPoint.building_number)
    )
    return list((await session.execute(query)).all())


def reached(household: Household) -> bool:
    """Someone at the household had a message accepted or delivered."""
    return any(getattr(household, state) for state in REACHED)

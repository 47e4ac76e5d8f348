"""The delivery report: per channel and state, and per household, live from the dispatchers' statuses."""

import csv
import io
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import reports
from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_composer.domain.access import Principal, Role, require
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.handlers.common import MessageNotFound
from hlasatel_composer.schemas import HouseholdRead, ReportRead
from hlasatel_contracts import DeliveryState
from hlasatel_contracts.addresses import label


def _household(row: reports.Household) -> HouseholdRead:
    return HouseholdRead(
        address_point_code=row.address_point_code,
        # a point the index no longer describes (the outer join found nothing) has no label
        address=label(row) if row.district is not None else None,
        district=row.district,
        street=row.street,
        subscribers=row.subscribers,
        deliveries=row.deliveries,
        states={state.value: count for state in DeliveryState if (count := getattr(row, state.value))},
        reached=reports.reached(row),
    )


async def _households(session: AsyncSession, message_id: UUID) -> tuple[MessageRow, list[HouseholdRead]]:
    row = await session.get(MessageRow, message_id)
    if row is None:
        raise MessageNotFound(f"no message {message_id}")
    return row, [_household(row) for row in await reports.households(session, message_id)]


async def report(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID
) -> ReportRead:
    """Deliveries per channel and state; households reached of households targeted, and those not reached."""
    require(principal, Role.EDITOR)
    async with sessions() as session:
        row, households = await _households(session, message_id)
        return ReportRead(
            message_id=message_id,
            state=MessageState(row.state),
            deliveries=await reports.delivery_counts(session, message_id),
            waiting_for_quiet_hours=await reports.waiting_for_quiet_hours(session, message_id),
            households_targeted=len(households),
            households_reached=sum(1 for h in households if h.reached),
            unreached=[h for h in households if not h.reached],
        )


CSV_COLUMNS = [
    "address_point_code",
    "address",
    "district",
    "street",
    "subscribers",
    "deliveries",
    *(state.value for state in DeliveryState),
    "reached",
]


async def report_csv(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID
) -> str:
    """One row per targeted household, for a spreadsheet or a door-to-door round."""
    require(principal, Role.EDITOR)
    async with sessions() as session:
        _, households = await _households(session, message_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for h in households:
        writer.writerow(
            [
                h.address_point_code,
                h.address or "",
                h.district or "",
                h.street or "",
                h.subscribers,
                h.deliveries,
                *(h.states.get(state.value, 0) for state in DeliveryState),
                "yes" if h.reached else "no",
            ]
        )
    return out.getvalue()

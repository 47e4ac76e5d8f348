"""The delivery report: per channel and state, and per household, live from the dispatchers' statuses.

Every read is audited. A message narrowed by language, role or identity shows no count below 5 and lists
no households; a message whose deliveries were deleted after the retention period shows the counts kept.
"""

import csv
import io
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access, reports
from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_composer.domain.access import Principal, Role, require
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.domain.privacy import Withheld, shown, shown_counts
from hlasatel_composer.handlers.common import is_narrowed
from hlasatel_composer.handlers.scope import visible
from hlasatel_composer.schemas import HouseholdRead, ReportRead
from hlasatel_contracts import DeliveryState
from hlasatel_contracts.addresses import label

WITHHELD = (
    "the message went to subscribers chosen by language, role or identity: which households they live in "
    "is not shown"
)


def _household(row: Any) -> HouseholdRead:
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


def _kept_household(row: Any) -> HouseholdRead:
    return HouseholdRead(
        address_point_code=row.address_point_code,
        address=label(row) if row.district is not None else None,
        district=row.district,
        street=row.street,
        subscribers=row.subscribers,
        deliveries=row.deliveries,
        states=dict(row.states),
        reached=row.reached,
    )


async def _households(session: AsyncSession, row: MessageRow) -> list[HouseholdRead]:
    if row.purged_at is not None:
        return [_kept_household(kept) for kept in await reports.kept_households(session, row.id)]
    return [_household(household) for household in await reports.households(session, row.id)]


async def _readable(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID, action: str
) -> bool:
    """Whether the key may read the message's report, and whether the message is narrowed; the read (or
    the attempt, if it is refused later for a narrowed message) goes to the audit log first."""
    require(principal, Role.EDITOR)
    async with sessions() as session, session.begin():
        row = await visible(session, principal, message_id)
        narrow = await is_narrowed(session, row)
        detail = {"withheld": True} if narrow and action == "report.csv.read" else None
        await access.audit(session, actor=principal, action=action, message_id=message_id, detail=detail)
    return narrow


async def report(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID
) -> ReportRead:
    """Deliveries per channel and state; households reached of households targeted, and those not reached."""
    narrow = await _readable(sessions, principal, message_id, "report.read")
    async with sessions() as session:
        row = await visible(session, principal, message_id)
        households = await _households(session, row)
        counts = await reports.delivery_counts(session, message_id)
        return ReportRead(
            message_id=message_id,
            state=MessageState(row.state),
            deliveries={channel: shown_counts(c, narrow=narrow) for channel, c in counts.items()},
            waiting_for_quiet_hours=shown(
                await reports.waiting_for_quiet_hours(session, message_id), narrow=narrow
            ),
            households_targeted=shown(len(households), narrow=narrow),
            households_reached=shown(sum(1 for h in households if h.reached), narrow=narrow),
            unreached=[] if narrow else [h for h in households if not h.reached],
            households_withheld=WITHHELD if narrow else None,
            purged=row.purged_at is not None,
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

# a cell a spreadsheet would read as a formula (CSV injection): it gets a leading apostrophe
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value as a spreadsheet may safely open it: text that would start a formula is made text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


async def report_csv(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID
) -> str:
    """One row per targeted household, for a spreadsheet or a door-to-door round."""
    if await _readable(sessions, principal, message_id, "report.csv.read"):
        raise Withheld(WITHHELD)
    async with sessions() as session:
        households = await _households(session, await visible(session, principal, message_id))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for h in households:
        writer.writerow(
            cell(value)
            for value in [
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

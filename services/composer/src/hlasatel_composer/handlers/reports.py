"""The delivery report: per channel and state, and per household of the register, live from the
dispatchers' statuses; the households nobody was reached at, for a visit or a loudspeaker.

Every read is audited. A message narrowed by language, role or identity shows no count below 5 and lists
no households; a message whose deliveries were deleted after the retention period shows the counts kept.
"""

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access, reports
from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_composer.domain.access import Principal, Role, require
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.domain.privacy import Withheld, shown, shown_counts
from hlasatel_composer.handlers.common import is_narrowed
from hlasatel_composer.handlers.households import (
    csv_text,
    household_row,
    households_geojson,
    unreached_row,
)
from hlasatel_composer.handlers.scope import visible
from hlasatel_composer.schemas import HouseholdRead, HouseholdsNotReachedRead, ReportRead
from hlasatel_contracts import DeliveryState
from hlasatel_contracts.addresses import house_number, label, postcode, street_order

WITHHELD = (
    "the message went to subscribers chosen by language, role or identity: which households they live in "
    "is not shown"
)


def _sent(row: Any, *, kept: bool) -> dict[str, Any]:
    """What a household's row of deliveries says: live counts, or those kept after the retention period."""
    if kept:
        return {
            "subscribers": row.subscribers,
            "deliveries": row.deliveries,
            "states": dict(row.states),
            "reached": row.reached,
        }
    return {
        "subscribers": row.subscribers,
        "deliveries": row.deliveries,
        "states": {state.value: count for state in DeliveryState if (count := getattr(row, state.value))},
        "reached": reports.reached(row),
    }


def _place(point: Any) -> dict[str, Any]:
    """A household's address, or nothing where the register no longer describes the point."""
    if point is None or point.district is None:
        return {"address": None, "district": None, "street": None}
    return {
        "address": label(point),
        "district": point.district,
        "street": point.street,
        "number": house_number(point),
        "postcode": postcode(point),
        "latitude": getattr(point, "latitude", None),
        "longitude": getattr(point, "longitude", None),
    }


async def _households(session: AsyncSession, row: MessageRow) -> list[HouseholdRead]:
    """Every household of the message's target, in the order of a walk through the city: those someone
    was sent the message at with their deliveries, and those nobody was (nobody had subscribed there)."""
    kept = row.purged_at is not None
    sent_rows = await (
        reports.kept_households(session, row.id) if kept else reports.households(session, row.id)
    )
    sent = {h.address_point_code: h for h in sent_rows}
    targeted = {point.code: point for point in await reports.targeted_points(session, row)}
    walk: list[tuple[tuple[object, ...], HouseholdRead]] = []
    for code in targeted.keys() | sent.keys():
        point, delivered = targeted.get(code), sent.get(code)
        facts = _sent(delivered, kept=kept) if delivered is not None else {}
        reached = facts.get("reached", False)
        household = HouseholdRead(
            address_point_code=code,
            **_place(point or delivered),
            subscribers=facts.get("subscribers", 0),
            deliveries=facts.get("deliveries", 0),
            states=facts.get("states", {}),
            reached=reached,
            reason=None if reached else "subscribed_not_reached" if delivered else "not_subscribed",
        )
        described: Any = point or delivered
        # a point the register no longer describes goes last
        order = street_order(described) if described.district is not None else ((chr(0x10FFFF),),)
        walk.append(((*order, code), household))
    return [household for _, household in sorted(walk, key=lambda pair: pair[0])]


async def _readable(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID, action: str
) -> bool:
    """Whether the key may read the message's report, and whether the message is narrowed; the read (or
    the attempt, if it is refused later for a narrowed message) goes to the audit log first."""
    require(principal, Role.EDITOR)
    async with sessions() as session, session.begin():
        row = await visible(session, principal, message_id)
        narrow = await is_narrowed(session, row)
        detail = {"withheld": True} if narrow and action != "report.read" else None
        await access.audit(session, actor=principal, action=action, message_id=message_id, detail=detail)
    return narrow


async def report(
    *,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    message_id: UUID,
    unreached_limit: int = 1000,
) -> ReportRead:
    """Deliveries per channel and state; households of the target reached and not, and why not."""
    narrow = await _readable(sessions, principal, message_id, "report.read")
    async with sessions() as session:
        row = await visible(session, principal, message_id)
        households = await _households(session, row)
        counts = await reports.delivery_counts(session, message_id)
        waiting = await reports.waiting_for_quiet_hours(session, message_id)
    unreached = [h for h in households if not h.reached]
    subscribed = sum(1 for h in unreached if h.reason == "subscribed_not_reached")
    return ReportRead(
        message_id=message_id,
        state=MessageState(row.state),
        deliveries={channel: shown_counts(c, narrow=narrow) for channel, c in counts.items()},
        waiting_for_quiet_hours=shown(waiting, narrow=narrow),
        households_targeted=len(households),
        households_reached=shown(len(households) - len(unreached), narrow=narrow),
        # of a narrowed message, where nobody subscribed would say where its subscribers live
        households_not_reached=HouseholdsNotReachedRead(
            total=shown(len(unreached), narrow=narrow),
            subscribed_not_reached=shown(subscribed, narrow=narrow),
            not_subscribed=shown(len(unreached) - subscribed, narrow=narrow),
        )
        if not narrow
        else None,
        unreached=[] if narrow else unreached[:unreached_limit],
        households_withheld=WITHHELD if narrow else None,
        purged=row.purged_at is not None,
    )


async def _listed(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    message_id: UUID,
    action: str,
    chosen: Callable[[HouseholdRead], bool] = lambda _: True,
) -> Sequence[HouseholdRead]:
    """The message's households for a list of them, refused for a narrowed message."""
    if await _readable(sessions, principal, message_id, action):
        raise Withheld(WITHHELD)
    async with sessions() as session:
        households = await _households(session, await visible(session, principal, message_id))
    return [h for h in households if chosen(h)]


async def report_csv(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID
) -> str:
    """One row per household of the target, for a spreadsheet."""
    households = await _listed(sessions, principal, message_id, "report.csv.read")
    return csv_text([household_row(h) for h in households], header=household_row(None))


async def unreached_csv(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID
) -> str:
    """The households nobody was reached at, in the order of a walk, for a door-to-door round."""
    households = await _listed(sessions, principal, message_id, "report.unreached.read", _not_reached)
    return csv_text([unreached_row(h) for h in households], header=unreached_row(None))


async def unreached_geojson(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, message_id: UUID
) -> dict[str, Any]:
    """The households nobody was reached at, as points for a map."""
    households = await _listed(sessions, principal, message_id, "report.unreached.read", _not_reached)
    return households_geojson(households)


def _not_reached(household: HouseholdRead) -> bool:
    return not household.reached

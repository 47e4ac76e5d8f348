"""Delivery statuses from the dispatchers, recorded a batch at a time unless a delivery already got
further: one read of the deliveries the batch names and one write of those that change, in one
transaction."""

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import DeliveryRow
from hlasatel_composer.domain.deliveries import rank
from hlasatel_contracts import DeliveryStatusChanged

_DELIVERIES = cast(Table, DeliveryRow.__table__)
_RECORD = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.delivery_id == bindparam("b_delivery_id"))
    .values(
        state=bindparam("b_state"),
        rank=bindparam("b_rank"),
        reason=bindparam("b_reason"),
        updated_at=bindparam("b_updated_at"),
    )
)


def furthest(statuses: Sequence[DeliveryStatusChanged]) -> dict[Any, tuple[int, DeliveryStatusChanged]]:
    """Of several statuses of one delivery in a batch, the one that got it furthest (the first of equals)."""
    best: dict[Any, tuple[int, DeliveryStatusChanged]] = {}
    for status in statuses:
        reached = rank(status.state, retryable=status.retryable)
        known = best.get(status.delivery_id)
        if known is None or reached > known[0]:
            best[status.delivery_id] = (reached, status)
    return best


async def apply_statuses(
    *, sessions: async_sessionmaker[AsyncSession], statuses: Sequence[DeliveryStatusChanged]
) -> int:
    """Record a batch of statuses; returns how many deliveries changed."""
    best = furthest(statuses)
    if not best:
        return 0
    async with sessions() as session, session.begin():
        ranks = dict(
            (
                await session.execute(
                    select(DeliveryRow.delivery_id, DeliveryRow.rank)
                    .where(DeliveryRow.delivery_id.in_(list(best)))
                    .order_by(DeliveryRow.delivery_id)  # one order of locks: two replicas never deadlock
                    .with_for_update()
                )
            ).all()
        )
        changed = [
            {
                "b_delivery_id": delivery_id,
                "b_state": status.state.value,
                "b_rank": reached,
                "b_reason": status.reason[:500] if status.reason else None,
                "b_updated_at": status.occurred_at,
            }
            for delivery_id, (reached, status) in best.items()
            if delivery_id in ranks and reached > ranks[delivery_id]
        ]
        if changed:
            await session.execute(_RECORD, changed)
    return len(changed)


async def apply_status(*, sessions: async_sessionmaker[AsyncSession], status: DeliveryStatusChanged) -> bool:
    """Record one status unless the delivery already got further. Returns whether it applied."""
    return await apply_statuses(sessions=sessions, statuses=[status]) == 1

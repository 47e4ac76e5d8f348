"""What the composer holds of one subscriber's deliveries: for their export, asked by the registry."""

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import DeliveryRow, MessageHousehold, MessageRow
from hlasatel_composer.domain.access import Principal, Role, require


async def delivery_history(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, subscriber_id: UUID, keep_days: float
) -> dict[str, Any]:
    """Every delivery the composer still keeps for the subscriber, with its message's category, kind and
    times, and the address points it was sent for; kept `keep_days` after a message went out (registry)."""
    require(principal, Role.REGISTRY)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    DeliveryRow,
                    MessageRow.category,
                    MessageRow.severity,
                    MessageRow.kind,
                    MessageRow.approved_at,
                )
                .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
                .where(DeliveryRow.subscriber_id == subscriber_id)
                .order_by(DeliveryRow.updated_at)
            )
        ).all()
        households: dict[UUID, list[int]] = {}
        for message_id, code in await session.execute(
            select(MessageHousehold.message_id, MessageHousehold.address_point_code).where(
                MessageHousehold.subscriber_id == subscriber_id
            )
        ):
            households.setdefault(message_id, []).append(code)
    return {
        "held_by": "composer",
        "kept_for_days": keep_days,
        "deliveries": [
            {
                "message_id": str(delivery.message_id),
                "category": category,
                "severity": severity,
                "kind": kind,
                "message_approved_at": approved_at.isoformat() if approved_at else None,
                "channel": delivery.channel,
                "contact_id": str(delivery.contact_id) if delivery.contact_id else None,
                "state": delivery.state,
                "reason": delivery.reason,
                "updated_at": delivery.updated_at.isoformat(),
                "held_for_quiet_hours": delivery.held_request is not None,
                "address_points": sorted(households.get(delivery.message_id, [])),
            }
            for delivery, category, severity, kind, approved_at in rows
        ],
    }

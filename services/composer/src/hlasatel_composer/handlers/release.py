"""Deliveries held for the end of their subscriber's quiet hours, published once it comes."""

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import DeliveryRow
from hlasatel_composer.adapters.recipients import contact_still_reachable
from hlasatel_composer.domain.deliveries import settle
from hlasatel_contracts import DELIVERY_REQUEST_BY_CHANNEL, Channel, DeliveryRequest, DeliveryState
from hlasatel_runtime.deadletter import TRANSIENT_ERRORS
from hlasatel_runtime.errors import describe

log = logging.getLogger(__name__)

PublishBatch = Callable[[Sequence[DeliveryRequest]], Awaitable[None]]


async def release_held(
    *, sessions: async_sessionmaker[AsyncSession], publish: PublishBatch, limit: int = 1000
) -> int:
    """Publish deliveries whose quiet hours are over; returns how many were published.

    A subscriber erased or a contact withdrawn in the meantime gets nothing; a message expired in the
    meantime expires its held deliveries; a held request that cannot be read fails alone.
    """
    now = datetime.now(UTC)
    outcome: dict[UUID, tuple[DeliveryState, str | None]] = {}
    due: list[DeliveryRequest] = []
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.held_request.is_not(None), DeliveryRow.not_before <= now)
                .order_by(DeliveryRow.not_before)
                .limit(limit)
            )
        ).all()
        for row in rows:
            try:
                request = _held(row)
                if request.expires_at is not None and request.expires_at <= now:
                    outcome[row.delivery_id] = (DeliveryState.EXPIRED, "expired during quiet hours")
                elif not await contact_still_reachable(
                    session, subscriber_id=row.subscriber_id, contact_id=request.contact_id
                ):
                    outcome[row.delivery_id] = (
                        DeliveryState.CANCELLED,
                        "contact withdrawn meanwhile",
                    )
                else:
                    outcome[row.delivery_id] = (DeliveryState.QUEUED, None)
                    due.append(request)
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:  # one unreadable held request never holds back the others
                reason = f"the held delivery could not be read: {describe(exc)}"
                log.warning("held delivery %s failed: %s", row.delivery_id, reason)
                outcome[row.delivery_id] = (DeliveryState.FAILED, reason)
    if not outcome:
        return 0
    await publish(due)
    async with sessions() as session, session.begin():
        for row in await session.scalars(
            select(DeliveryRow).where(
                DeliveryRow.delivery_id.in_(outcome), DeliveryRow.held_request.is_not(None)
            )
        ):
            state, why = outcome[row.delivery_id]
            settle(row, state, reason=why, at=now)
            row.held_request = None
    return len(due)


def _held(row: DeliveryRow) -> DeliveryRequest:
    payload: dict[str, Any] = row.held_request or {}
    model: type[DeliveryRequest] = DELIVERY_REQUEST_BY_CHANNEL[Channel(row.channel)]
    return model.model_validate(payload)

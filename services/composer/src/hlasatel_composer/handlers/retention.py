"""Who was sent what is kept only as long as needed: then counts, and nothing else. (And a member of
the staff's session no longer than it can be used.)

`keep_days` after a message went out (or was cancelled, or failed), its deliveries and the households
it reached at are summarised into counts per channel and state and per household, and deleted: the
report still shows the counts; who was sent it is gone. A message stays whole while an alert's
follow-up may still need its recipients: the current message of an active alert, one that a follow-up
still being sent follows, and one with deliveries still held for quiet hours.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from hlasatel_composer.adapters import reports
from hlasatel_composer.adapters.orm import (
    AlertRow,
    DeliveryCount,
    DeliveryRow,
    HouseholdCount,
    MessageHousehold,
    MessageRow,
)
from hlasatel_composer.domain.alerts import AlertState
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.handlers.staff import forget_ended_sessions
from hlasatel_contracts import DeliveryState
from hlasatel_runtime.database import insert_rows
from hlasatel_runtime.worker import Worker

log = logging.getLogger(__name__)

_OVER = (MessageState.DONE.value, MessageState.CANCELLED.value, MessageState.FAILED.value)
_GOING = (MessageState.DRAFT.value, MessageState.APPROVED.value, MessageState.SENDING.value)


class Retention:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        keep_days: float,
        poll_s: float = 3600.0,
        batch_size: int = 20,
    ) -> None:
        self._sessions = sessions
        self._keep = timedelta(days=keep_days)
        self._batch_size = batch_size
        self.run = Worker(name="retention", step=self._step, idle_poll_s=poll_s).run

    async def _step(self, _stopping: asyncio.Event) -> bool:
        await self.forget_sessions()
        return await self.purge() == self._batch_size

    async def forget_sessions(self, *, now: datetime | None = None) -> int:
        """Staff sessions that have ended are deleted: a session lasts 12 hours at most."""
        async with self._sessions() as session, session.begin():
            gone = await forget_ended_sessions(session, now or datetime.now(UTC))
        if gone:
            log.info("deleted %d ended staff sessions", gone)
        return gone

    async def purge(self, *, now: datetime | None = None) -> int:
        """Summarise and delete the deliveries of messages past the retention period; returns how many
        messages were purged."""
        now = now or datetime.now(UTC)
        async with self._sessions() as session:
            due = list(await session.scalars(self._due(now)))
        for message_id in due:
            async with self._sessions() as session, session.begin():
                await self._purge_one(session, message_id, now)
        if due:
            log.info("deleted the deliveries of %d messages past the retention period; counts kept", len(due))
        return len(due)

    def _due(self, now: datetime) -> Any:
        follow_up = aliased(MessageRow)
        current_of_an_active_alert = select(AlertRow.current).where(
            AlertRow.state == AlertState.ACTIVE.value, AlertRow.current.is_not(None)
        )
        still_followed = (
            select(follow_up.id)
            .where(follow_up.follows == MessageRow.id, follow_up.state.in_(_GOING))
            .exists()
        )
        still_held = (
            select(DeliveryRow.delivery_id)
            .where(DeliveryRow.message_id == MessageRow.id, DeliveryRow.held_request.is_not(None))
            .exists()
        )
        ended = func.coalesce(MessageRow.fanout_finished_at, MessageRow.cancelled_at, MessageRow.created_at)
        return (
            select(MessageRow.id)
            .where(
                MessageRow.purged_at.is_(None),
                MessageRow.state.in_(_OVER),
                ended < now - self._keep,
                MessageRow.id.not_in(current_of_an_active_alert),
                ~still_followed,
                ~still_held,
            )
            .order_by(ended)
            .limit(self._batch_size)
        )

    @staticmethod
    async def _purge_one(session: AsyncSession, message_id: UUID, now: datetime) -> None:
        row = await session.get(MessageRow, message_id, with_for_update=True)
        if row is None or row.purged_at is not None:
            return
        counts = await reports.live_delivery_counts(session, message_id)
        await insert_rows(
            session,
            DeliveryCount,
            [
                {"message_id": message_id, "channel": channel, "state": state, "count": count}
                for channel, states in counts.items()
                for state, count in states.items()
            ],
        )
        households = await reports.households(session, message_id)
        await insert_rows(
            session,
            HouseholdCount,
            [
                {
                    "message_id": message_id,
                    "address_point_code": h.address_point_code,
                    "subscribers": h.subscribers,
                    "deliveries": h.deliveries,
                    "states": {s.value: n for s in DeliveryState if (n := getattr(h, s.value))},
                    "reached": reports.reached(h),
                }
                for h in households
            ],
        )
        row.recipients_kept = await session.scalar(
            select(func.count(func.distinct(DeliveryRow.subscriber_id))).where(
                DeliveryRow.message_id == message_id
            )
        )
        await session.execute(delete(DeliveryRow).where(DeliveryRow.message_id == message_id))
        await session.execute(delete(MessageHousehold).where(MessageHousehold.message_id == message_id))
        row.purged_at = now

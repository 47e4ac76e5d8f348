"""Fan-out: approved messages streamed to delivery requests in batches, resumable after a crash."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import DeliveryRow, MessageRow
from hlasatel_composer.adapters.recipients import recipients_after
from hlasatel_composer.domain.messages import Content, MessageState, Severity, Target
from hlasatel_composer.domain.requests import delivery_requests, wants
from hlasatel_contracts import DeliveryRequest, DeliveryState, delivery_topic
from hlasatel_runtime.worker import Worker

log = logging.getLogger(__name__)

PublishRequest = Callable[[str, bytes, DeliveryRequest], Awaitable[Awaitable[object]]]


class FanOut:
    """Records a batch, publishes it, then moves the cursor past it: a crash repeats a batch, never skips one.

    A repeated batch carries the same deterministic delivery ids, which the dispatchers' ledgers refuse
    to send twice.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        publish: PublishRequest,
        batch_size: int = 500,
        idle_poll_s: float = 0.5,
        contact_secret: str,
        unsubscribe_base_url: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._batch_size = batch_size
        self._unsubscribe_base_url = unsubscribe_base_url
        self._contact_secret = contact_secret
        self._worker = Worker(name="fan-out", step=self._step, idle_poll_s=idle_poll_s)
        # wake() starts fanning out a message approved just now
        self.wake = self._worker.wake
        self.run = self._worker.run

    async def _step(self, stopping: asyncio.Event) -> bool:
        """Fan out every approved message; a batch in progress is finished before stopping."""
        for message_id in await self._pending():
            await self.fan_out(message_id, stopping=stopping)
        return False

    async def _pending(self) -> list[UUID]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(MessageRow.id)
                .where(MessageRow.state.in_([MessageState.APPROVED, MessageState.SENDING]))
                .order_by(MessageRow.approved_at)
            )
            return list(rows)

    async def fan_out(self, message_id: UUID, *, stopping: asyncio.Event | None = None) -> int:
        """Publish the message's remaining delivery requests; returns how many were published."""
        published = 0
        while stopping is None or not stopping.is_set():
            batch = await self._next_batch(message_id)
            if batch is None:
                break
            published += batch
        return published

    async def _next_batch(self, message_id: UUID) -> int | None:
        async with self._sessions() as session, session.begin():
            message = await session.get(MessageRow, message_id, with_for_update=True)
            if message is None or message.state not in (MessageState.APPROVED, MessageState.SENDING):
                return None
            message.state = MessageState.SENDING
            target = Target.model_validate(message.target)
            recipients = await recipients_after(
                session, target=target, after=message.fanout_cursor, limit=self._batch_size
            )
            if not recipients:
                message.state = MessageState.SENT
                message.fanout_finished_at = datetime.now(UTC)
                log.info("message %s fanned out", message_id)
                return None
            content = Content.model_validate(message.content)
            severity = Severity(message.severity)
            now = datetime.now(UTC)
            requests = [
                request
                for recipient in recipients
                if wants(recipient, category=message.category, severity=severity)
                for request in delivery_requests(
                    message_id=message.id,
                    content=content,
                    severity=severity,
                    category=message.category,
                    recipient=recipient,
                    requested_at=now,
                    unsubscribe_base_url=self._unsubscribe_base_url,
                    contact_secret=self._contact_secret,
                    expires_at=message.expires_at,
                )
            ]
            requests = _first_per_delivery(requests)
            await self._record(session, requests, now)
            cursor = recipients[-1].subscriber_id
        # the rows are committed first, so that a status coming straight back finds its delivery
        confirmations = [
            await self._publish(
                delivery_topic(request.channel, request.lane), str(request.subscriber_id).encode(), request
            )
            for request in requests
        ]
        await asyncio.gather(*confirmations)
        async with self._sessions() as session, session.begin():
            message = await session.get(MessageRow, message_id, with_for_update=True)
            if message is not None:
                message.fanout_cursor = cursor
        return len(requests)

    @staticmethod
    async def _record(session: AsyncSession, requests: list[DeliveryRequest], now: datetime) -> None:
        ids = [request.delivery_id for request in requests]
        known = set(
            await session.scalars(select(DeliveryRow.delivery_id).where(DeliveryRow.delivery_id.in_(ids)))
        )
        session.add_all(
            DeliveryRow(
                delivery_id=request.delivery_id,
                message_id=request.message_id,
                subscriber_id=request.subscriber_id,
                channel=request.channel.value,
                state=DeliveryState.QUEUED.value,
                rank=0,
                updated_at=now,
            )
            for request in requests
            if request.delivery_id not in known
        )


def _first_per_delivery(requests: list[DeliveryRequest]) -> list[DeliveryRequest]:
    """Two subscriptions with the same phone, address or token: one delivery, for the first of them."""
    seen: set[UUID] = set()
    unique = []
    for request in requests:
        if request.delivery_id not in seen:
            seen.add(request.delivery_id)
            unique.append(request)
    return unique

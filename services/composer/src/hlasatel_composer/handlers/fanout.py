"""Fan-out: approved messages streamed to delivery requests in batches, resumable after a crash."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from hlasatel_composer.adapters.orm import DeliveryRow, MessageHousehold, MessageRow
from hlasatel_composer.adapters.recipients import Audience, recipients_after
from hlasatel_composer.domain.message import FANNING_OUT, Message
from hlasatel_composer.domain.messages import Severity
from hlasatel_composer.domain.requests import Recipient
from hlasatel_composer.handlers.planning import (
    SKIPPED,
    Planned,
    audience_of,
    delivery_row,
    planned_requests,
    unsendable_row,
)
from hlasatel_composer.handlers.release import release_held
from hlasatel_contracts import DeliveryRequest
from hlasatel_runtime.database import insert_rows
from hlasatel_runtime.deadletter import TRANSIENT_ERRORS
from hlasatel_runtime.errors import describe
from hlasatel_runtime.secrets import KeyRing
from hlasatel_runtime.worker import Worker

log = logging.getLogger(__name__)

PublishBatch = Callable[[Sequence[DeliveryRequest]], Awaitable[None]]
# message states as the database holds them
_FANNING_OUT = [state.value for state in FANNING_OUT]


class FanOut:
    """Records a batch, publishes it, then moves the cursor past it: a crash repeats a batch, never skips one.

    A repeated batch carries the same deterministic delivery ids, which the dispatchers' ledgers refuse
    to send twice. Deliveries inside a subscriber's quiet hours are recorded but held back, and published
    by the same worker once the quiet hours end.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        publish: PublishBatch,
        batch_size: int = 500,
        idle_poll_s: float = 0.5,
        contact_secret: str | KeyRing,
        unsubscribe_base_url: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._batch_size = batch_size
        self._unsubscribe_base_url = unsubscribe_base_url
        self._keys = KeyRing.of(contact_secret)
        self._worker = Worker(name="fan-out", step=self._step, idle_poll_s=idle_poll_s)
        # wake() starts fanning out a message approved just now
        self.wake = self._worker.wake
        self.run = self._worker.run

    async def _step(self, stopping: asyncio.Event) -> bool:
        """Fan out what is due a batch at a time, then release deliveries whose quiet hours are over."""
        while not stopping.is_set() and await self.next_batch():
            pass
        return await self.release_held() > 0

    async def release_held(self, *, limit: int = 1000) -> int:
        """Publish deliveries whose quiet hours are over; returns how many were published."""
        return await release_held(sessions=self._sessions, publish=self._publish, limit=limit)

    async def next_batch(self) -> bool:
        """Publish one batch of the most urgent message that is due; False when none is.

        A batch at a time, choosing again after each: an emergency approved while a newsletter to the
        whole city is being fanned out goes out after the batch in hand, not after the newsletter. A
        message that cannot be sent at all fails alone, with its reason; the others go on.
        """
        for message_id in await self.due():
            try:
                if await self._next_batch(message_id) is not None:
                    return True
            except TRANSIENT_ERRORS:
                raise  # the database or the broker is away: the worker waits and tries again
            except Exception as exc:
                await self._failed(message_id, exc)
        return False

    async def _failed(self, message_id: UUID, exc: Exception) -> None:
        reason = f"the message could not be sent: {describe(exc)}"
        log.error("message %s failed: %s", message_id, reason)
        async with self._sessions() as session, session.begin():
            row = await session.get(MessageRow, message_id, with_for_update=True)
            if row is not None and (message := Message(row)).fanning_out:
                message.fail(reason=reason, at=datetime.now(UTC))

    async def due(self) -> list[UUID]:
        """Approved messages whose time has come, emergencies first, then in the order of approval; a
        follow-up waits until its original has gone out, for its audience is whoever the original
        reached."""
        original = aliased(MessageRow)
        unfinished = (
            select(original.id)
            .where(original.id == MessageRow.follows, original.state.in_(_FANNING_OUT))
            .exists()
        )
        async with self._sessions() as session:
            rows = await session.scalars(
                select(MessageRow.id)
                .where(
                    MessageRow.state.in_(_FANNING_OUT),
                    or_(MessageRow.send_at.is_(None), MessageRow.send_at <= datetime.now(UTC)),
                    ~unfinished,
                )
                .order_by(
                    case((MessageRow.severity == Severity.EMERGENCY.value, 0), else_=1),
                    MessageRow.approved_at,
                )
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
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            row = await session.get(MessageRow, message_id, with_for_update=True)
            if row is None or not (message := Message(row)).fanning_out:
                return None
            # its delivery ids are keyed by the secret of its first batch, whatever replaces it later
            message.start(key_fingerprint=self._keys.current_fingerprint)
            audience = audience_of(row)
            recipients = await recipients_after(
                session, audience=audience, after=row.fanout_cursor, limit=self._batch_size
            )
            if not recipients or message.expired(now):
                message.finish(at=now)
                log.info("message %s fanned out", message_id)
                return None
            planned = self._requests(row, recipients, now)
            publish_now = await self._record(session, row, audience, planned, now)
            cursor = recipients[-1].subscriber_id
        # the rows are committed first, so that a status coming straight back finds its delivery
        await self._publish(publish_now)
        async with self._sessions() as session, session.begin():
            row = await session.get(MessageRow, message_id, with_for_update=True)
            if row is not None:
                Message(row).sent_up_to(cursor)
        return len(publish_now)

    def _requests(self, message: MessageRow, recipients: list[Recipient], now: datetime) -> Planned:
        return planned_requests(
            message,
            recipients,
            now,
            unsubscribe_base_url=self._unsubscribe_base_url,
            contact_secret=self._keys.by_fingerprint(message.key_fingerprint),
        )

    @staticmethod
    async def _record(
        session: AsyncSession, message: MessageRow, audience: Audience, planned: Planned, now: datetime
    ) -> list[DeliveryRequest]:
        """Store new deliveries and where their recipients live; returns what is to be published now.

        A batch seen before (after a crash) is published again except what is held for quiet hours. A
        contact shared with a subscriber of an earlier batch already has its delivery and gets nothing more.
        A delivery that cannot be made is stored failed, with the reason, and never published.
        """
        requests = planned.requests
        ids = [request.delivery_id for request, _ in requests] + [u.delivery_id for u in planned.unsendable]
        known = {
            row.delivery_id: row
            for row in await session.execute(
                select(
                    DeliveryRow.delivery_id,
                    DeliveryRow.subscriber_id,
                    DeliveryRow.held_request.is_not(None).label("held"),
                ).where(DeliveryRow.delivery_id.in_(ids))
            )
        }
        publish_now: list[DeliveryRequest] = []
        new: list[dict[str, Any]] = []
        for request, held_until in requests:
            seen = known.get(request.delivery_id)
            if seen is None:
                new.append(delivery_row(request, held_until, now))
                if held_until is None:
                    publish_now.append(request)
            elif seen.subscriber_id == request.subscriber_id and not seen.held:
                publish_now.append(request)
        unsendable = [u for u in planned.unsendable if u.delivery_id not in known]
        new += [unsendable_row(message.id, u, now) for u in unsendable]
        SKIPPED.inc(len(unsendable))
        await insert_rows(session, DeliveryRow, new)
        reached = sorted(
            {request.subscriber_id for request, _ in requests} | {u.subscriber_id for u in planned.unsendable}
        )
        recorded = {
            (subscriber_id, code)
            for subscriber_id, code in await session.execute(
                select(MessageHousehold.subscriber_id, MessageHousehold.address_point_code).where(
                    MessageHousehold.message_id == message.id,
                    MessageHousehold.subscriber_id.in_(reached),
                )
            )
        }
        households = [
            {"message_id": message.id, "subscriber_id": subscriber_id, "address_point_code": code}
            for subscriber_id, code in await audience.households(session, reached)
            if (subscriber_id, code) not in recorded
        ]
        await insert_rows(session, MessageHousehold, households)
        return publish_now

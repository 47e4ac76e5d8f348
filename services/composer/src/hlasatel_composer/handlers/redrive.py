"""Reconciliation: deliveries no dispatcher ever reported on are published again.

A broker that loses its log (the embedded one keeps it in memory; a real cluster can lose an unreplicated
partition) loses the delivery requests on it, and nothing else would notice: the composer has them as
`queued` and waits. Past `after_s` without any status, a delivery is rebuilt from its message and its
subscriber's chosen contact — the same delivery id — and published again; a dispatcher that did send it
only announces its status again. After `max_redrives` it is reported failed, so that the report shows it.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prometheus_client import Counter
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import DeliveryRow, MessageRow
from hlasatel_composer.adapters.recipients import recipients_by_id
from hlasatel_composer.domain.deliveries import settle
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.handlers.fanout import PublishBatch
from hlasatel_composer.handlers.planning import planned_requests
from hlasatel_contracts import DeliveryRequest, DeliveryState
from hlasatel_runtime.deadletter import TRANSIENT_ERRORS
from hlasatel_runtime.errors import describe
from hlasatel_runtime.secrets import KeyRing
from hlasatel_runtime.worker import Worker

log = logging.getLogger(__name__)

REDRIVEN = Counter("hlasatel_composer_redriven_total", "Deliveries published again for want of a status")
GIVEN_UP = Counter(
    "hlasatel_composer_redrive_given_up_total", "Deliveries reported failed after the last re-drive"
)


class Redrive:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        publish: PublishBatch,
        contact_secret: str | KeyRing,
        unsubscribe_base_url: str | None,
        after_s: float,
        max_redrives: int,
        poll_s: float,
        batch_size: int = 1000,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._keys = KeyRing.of(contact_secret)
        self._unsubscribe_base_url = unsubscribe_base_url
        self._after = timedelta(seconds=after_s)
        self._max_redrives = max_redrives
        self._batch_size = batch_size
        self.run = Worker(name="re-drive", step=self._step, idle_poll_s=poll_s).run

    async def _step(self, stopping: asyncio.Event) -> bool:
        return await self.redrive() == self._batch_size

    async def redrive(self) -> int:
        """Publish again what has waited too long for a status; returns how many deliveries were handled."""
        now = datetime.now(UTC)
        async with self._sessions() as session:
            stale = await self._stale(session, now)
            if not stale:
                return 0
            given_up = {row.delivery_id for row in stale if row.redrives >= self._max_redrives}
            again, unusable = await self._requests(
                session, [row for row in stale if row.delivery_id not in given_up], now
            )
        await self._publish(again)
        async with self._sessions() as session, session.begin():
            for row in await session.scalars(
                select(DeliveryRow).where(DeliveryRow.delivery_id.in_([r.delivery_id for r in stale]))
            ):
                if row.state != DeliveryState.QUEUED.value:
                    continue  # a status arrived meanwhile
                if row.delivery_id in given_up or row.delivery_id in unusable:
                    reason = unusable.get(row.delivery_id, "no dispatcher reported on it")
                    settle(row, DeliveryState.FAILED, reason=reason, at=now)
                else:
                    row.updated_at = now
                    row.redrives += 1
        REDRIVEN.inc(len(again))
        GIVEN_UP.inc(len(given_up))
        log.warning("re-drove %d deliveries without a status, gave up on %d", len(again), len(given_up))
        return len(stale)

    async def _stale(self, session: AsyncSession, now: datetime) -> Sequence[Any]:
        return (
            await session.execute(
                select(
                    DeliveryRow.delivery_id,
                    DeliveryRow.message_id,
                    DeliveryRow.subscriber_id,
                    DeliveryRow.redrives,
                )
                .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
                .where(
                    DeliveryRow.state == DeliveryState.QUEUED.value,
                    DeliveryRow.held_request.is_(None),
                    DeliveryRow.updated_at < now - self._after,
                    MessageRow.state.in_((MessageState.SENDING.value, MessageState.DONE.value)),
                    or_(MessageRow.expires_at.is_(None), MessageRow.expires_at > now),
                )
                .order_by(DeliveryRow.updated_at)
                .limit(self._batch_size)
            )
        ).all()

    async def _requests(
        self, session: AsyncSession, stale: Sequence[Any], now: datetime
    ) -> tuple[list[DeliveryRequest], dict[UUID, str]]:
        """The same requests as the fan-out made, rebuilt per message for the subscribers concerned; and
        the deliveries that cannot be rebuilt (their message or subscriber does not read), with why."""
        by_message: dict[UUID, list[Any]] = {}
        for row in stale:
            by_message.setdefault(row.message_id, []).append(row)
        wanted = {row.delivery_id for row in stale}
        requests: list[DeliveryRequest] = []
        unusable: dict[UUID, str] = {}
        for message_id, rows in by_message.items():
            try:
                message = await session.get(MessageRow, message_id)
                assert message is not None
                recipients = await recipients_by_id(session, sorted({row.subscriber_id for row in rows}))
                planned = planned_requests(
                    message,
                    recipients,
                    now,
                    unsubscribe_base_url=self._unsubscribe_base_url,
                    contact_secret=self._keys.by_fingerprint(message.key_fingerprint),
                )
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:  # one message that does not read never stops the others' re-drive
                reason = f"could not be rebuilt: {describe(exc)}"
                log.warning("re-drive of message %s failed: %s", message_id, reason)
                unusable |= {row.delivery_id: reason for row in rows}
                continue
            requests += [request for request, _ in planned.requests if request.delivery_id in wanted]
            unusable |= {u.delivery_id: u.reason for u in planned.unsendable if u.delivery_id in wanted}
        return requests, unusable

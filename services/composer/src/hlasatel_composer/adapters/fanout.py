"""Fan-out: approved messages streamed to delivery requests in batches, resumable after a crash."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prometheus_client import Counter
from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from hlasatel_composer.adapters.orm import DeliveryRow, MessageHousehold, MessageRow
from hlasatel_composer.adapters.recipients import (
    Audience,
    contact_still_reachable,
    recipients_after,
)
from hlasatel_composer.domain.deliveries import rank
from hlasatel_composer.domain.messages import Content, MessageState, Severity
from hlasatel_composer.domain.requests import Recipient, delivery_requests, recipient_delivery_ids
from hlasatel_composer.domain.schedule import quiet_until
from hlasatel_composer.domain.targeting import Target, TargetFilters
from hlasatel_contracts import DELIVERY_REQUEST_BY_CHANNEL, Channel, DeliveryRequest, DeliveryState
from hlasatel_runtime.database import insert_rows
from hlasatel_runtime.deadletter import TRANSIENT_ERRORS
from hlasatel_runtime.errors import describe
from hlasatel_runtime.secrets import KeyRing
from hlasatel_runtime.worker import Worker

log = logging.getLogger(__name__)

PublishBatch = Callable[[Sequence[DeliveryRequest]], Awaitable[None]]
Secrets = Callable[[MessageRow], str]

SKIPPED = Counter(
    "hlasatel_composer_recipients_skipped_total",
    "Deliveries recorded failed because their subscriber's record or the message could not be used",
)


@dataclass(frozen=True)
class Unsendable:
    """A delivery that cannot be made (its subscriber's record cannot be read): recorded failed, with why."""

    delivery_id: UUID
    subscriber_id: UUID
    contact_id: UUID
    channel: Channel
    reason: str


@dataclass
class Planned:
    """What a batch of recipients comes to: requests, each with the end of its quiet hours if they are on
    now, and the deliveries that cannot be made."""

    requests: list[tuple[DeliveryRequest, datetime | None]] = field(default_factory=list)
    unsendable: list[Unsendable] = field(default_factory=list)


class MessageUnusable(Exception):
    """The stored message itself cannot be sent (its content or target does not read): it fails alone."""


FANNING_OUT = (MessageState.APPROVED.value, MessageState.SENDING.value)


def audience_of(message: MessageRow) -> Audience:
    """An update reaches whoever its original reached; anything else, its own target."""
    if message.follows is not None:
        return Audience(follows=message.follows, unless_at=message.unless_at)
    filters = Target.model_validate(message.target).filters if message.target else TargetFilters()
    return Audience(
        resolution_id=message.id,
        filters=filters,
        category=message.category,
        severity=Severity(message.severity),
    )


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
            message = await session.get(MessageRow, message_id, with_for_update=True)
            if message is not None and message.state in FANNING_OUT:
                message.state, message.failure = MessageState.FAILED.value, reason[:500]
                message.fanout_finished_at = datetime.now(UTC)

    async def due(self) -> list[UUID]:
        """Approved messages whose time has come, emergencies first, then in the order of approval; a
        follow-up waits until its original has gone out, for its audience is whoever the original
        reached."""
        original = aliased(MessageRow)
        unfinished = (
            select(original.id)
            .where(original.id == MessageRow.follows, original.state.in_(FANNING_OUT))
            .exists()
        )
        async with self._sessions() as session:
            rows = await session.scalars(
                select(MessageRow.id)
                .where(
                    MessageRow.state.in_(FANNING_OUT),
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
            message = await session.get(MessageRow, message_id, with_for_update=True)
            if message is None or message.state not in FANNING_OUT:
                return None
            message.state = MessageState.SENDING.value
            if message.key_fingerprint is None:
                # its delivery ids are keyed by the secret of its first batch, whatever replaces it later
                message.key_fingerprint = self._keys.current_fingerprint
            audience = audience_of(message)
            recipients = await recipients_after(
                session, audience=audience, after=message.fanout_cursor, limit=self._batch_size
            )
            if not recipients or (message.expires_at is not None and message.expires_at <= now):
                message.state = MessageState.DONE.value
                message.fanout_finished_at = now
                log.info("message %s fanned out", message_id)
                return None
            planned = self._requests(message, recipients, now)
            publish_now = await self._record(session, message, audience, planned, now)
            cursor = recipients[-1].subscriber_id
        # the rows are committed first, so that a status coming straight back finds its delivery
        await self._publish(publish_now)
        async with self._sessions() as session, session.begin():
            message = await session.get(MessageRow, message_id, with_for_update=True)
            if message is not None:
                message.fanout_cursor = cursor
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
                new.append(_delivery_row(request, held_until, now))
                if held_until is None:
                    publish_now.append(request)
            elif seen.subscriber_id == request.subscriber_id and not seen.held:
                publish_now.append(request)
        unsendable = [u for u in planned.unsendable if u.delivery_id not in known]
        new += [_unsendable_row(message.id, u, now) for u in unsendable]
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

    async def release_held(self, *, limit: int = 1000) -> int:
        """Publish deliveries whose quiet hours are over; returns how many were published.

        A subscriber erased or a contact withdrawn in the meantime gets nothing; a message expired in the
        meantime expires its held deliveries; a held request that cannot be read fails alone.
        """
        now = datetime.now(UTC)
        outcome: dict[UUID, tuple[str, str | None]] = {}
        due: list[DeliveryRequest] = []
        async with self._sessions() as session:
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
                        outcome[row.delivery_id] = (DeliveryState.EXPIRED.value, "expired during quiet hours")
                    elif not await contact_still_reachable(
                        session, subscriber_id=row.subscriber_id, contact_id=request.contact_id
                    ):
                        outcome[row.delivery_id] = (
                            DeliveryState.CANCELLED.value,
                            "contact withdrawn meanwhile",
                        )
                    else:
                        outcome[row.delivery_id] = (DeliveryState.QUEUED.value, None)
                        due.append(request)
                except TRANSIENT_ERRORS:
                    raise
                except Exception as exc:  # one unreadable held request never holds back the others
                    reason = f"the held delivery could not be read: {describe(exc)}"
                    log.warning("held delivery %s failed: %s", row.delivery_id, reason)
                    outcome[row.delivery_id] = (DeliveryState.FAILED.value, reason)
        if not outcome:
            return 0
        await self._publish(due)
        async with self._sessions() as session, session.begin():
            for row in await session.scalars(
                select(DeliveryRow).where(
                    DeliveryRow.delivery_id.in_(outcome), DeliveryRow.held_request.is_not(None)
                )
            ):
                row.state, row.reason = outcome[row.delivery_id]
                row.rank = rank(DeliveryState(row.state), retryable=False)
                row.held_request = None
                row.updated_at = now
        return len(due)


def planned_requests(
    message: MessageRow,
    recipients: list[Recipient],
    now: datetime,
    *,
    unsubscribe_base_url: str | None,
    contact_secret: str,
) -> Planned:
    """Each request of the message to these recipients, with the end of its subscriber's quiet hours if
    they are on now, and what cannot be made for a recipient whose record does not read. The same message,
    recipients and contacts always give the same delivery ids."""
    try:
        content = Content.model_validate(message.content)
        severity = Severity(message.severity)
    except Exception as exc:
        raise MessageUnusable(describe(exc)) from None
    planned: dict[UUID, tuple[DeliveryRequest, datetime | None]] = {}
    unsendable: dict[UUID, Unsendable] = {}
    for recipient in recipients:
        try:
            if recipient.problem is not None:
                raise RecipientUnusable(recipient.problem)
            held_until = None if severity is Severity.EMERGENCY else quiet_until(recipient.quiet_hours, now)
            made = delivery_requests(
                message_id=message.id,
                content=content,
                severity=severity,
                category=message.category,
                recipient=recipient,
                requested_at=now,
                unsubscribe_base_url=unsubscribe_base_url,
                contact_secret=contact_secret,
                expires_at=message.expires_at,
                sms_gsm7=message.sms_transliterate,
            )
        except Exception as exc:  # one subscriber's record never stops the batch
            reason = (
                recipient.problem or f"the message could not be made for this subscriber: {describe(exc)}"
            )
            ids = recipient_delivery_ids(
                message_id=message.id, content=content, recipient=recipient, contact_secret=contact_secret
            )
            for delivery_id, channel, contact_id in ids:
                unsendable.setdefault(
                    delivery_id, Unsendable(delivery_id, recipient.subscriber_id, contact_id, channel, reason)
                )
            continue
        for request in made:
            # two subscriptions with the same phone, address or token: one delivery, for the first
            planned.setdefault(request.delivery_id, (request, held_until))
    return Planned(
        requests=list(planned.values()),
        unsendable=[u for u in unsendable.values() if u.delivery_id not in planned],
    )


class RecipientUnusable(Exception):
    """The subscriber's record cannot be used; the message says why (never a contact)."""


def _unsendable_row(message_id: UUID, unsendable: Unsendable, now: datetime) -> dict[str, Any]:
    return {
        "delivery_id": unsendable.delivery_id,
        "message_id": message_id,
        "subscriber_id": unsendable.subscriber_id,
        "contact_id": unsendable.contact_id,
        "channel": unsendable.channel.value,
        "state": DeliveryState.FAILED.value,
        "rank": rank(DeliveryState.FAILED, retryable=False),
        "reason": unsendable.reason[:500],
        "updated_at": now,
        "not_before": None,
        "held_request": None,
    }


def _delivery_row(request: DeliveryRequest, held_until: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "delivery_id": request.delivery_id,
        "message_id": request.message_id,
        "subscriber_id": request.subscriber_id,
        "contact_id": request.contact_id,
        "channel": request.channel.value,
        "state": DeliveryState.QUEUED.value,
        "rank": 0,
        "reason": None,
        "updated_at": now,
        "not_before": held_until,
        "held_request": request.model_dump(mode="json") if held_until else None,
    }


def _held(row: DeliveryRow) -> DeliveryRequest:
    payload: dict[str, Any] = row.held_request or {}
    model: type[DeliveryRequest] = DELIVERY_REQUEST_BY_CHANNEL[Channel(row.channel)]
    return model.model_validate(payload)

"""One delivery request in, one provider call at most, one status out."""

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Generic

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import Channel, DeliveryState, DeliveryStatusChanged, MessageCancelled
from hlasatel_dispatch import ledger
from hlasatel_dispatch.ledger import LedgerState
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    Provider,
    ProviderError,
    Receipt,
    RequestT,
)

log = logging.getLogger(__name__)

PublishStatus = Callable[[DeliveryStatusChanged], Awaitable[None]]


class Dispatcher(Generic[RequestT]):
    """Checks the ledger before and writes it after each provider call, never across it."""

    def __init__(
        self,
        *,
        channel: Channel,
        provider: Provider[RequestT],
        sessions: async_sessionmaker[AsyncSession],
        publish_status: PublishStatus,
    ) -> None:
        self.channel = channel
        self.provider = provider
        self.sessions = sessions
        self.publish_status = publish_status

    async def handle(self, request: RequestT) -> DeliveryStatusChanged:
        """Deliver once; a repeated request re-announces the outcome it already had."""
        async with self.sessions() as session:
            entry = await ledger.find(session, str(request.delivery_id))
            cancelled = await ledger.is_cancelled(session, request.message_id)
        if entry is not None and entry.state == LedgerState.HANDED:
            log.info(
                "delivery %s was already handed to %s; not sending again", request.delivery_id, entry.provider
            )
            status = self._status(
                request,
                DeliveryState.ACCEPTED,
                provider=entry.provider,
                provider_message_id=entry.provider_message_id,
                segments=entry.segments,
            )
        elif cancelled or (entry is not None and entry.state == LedgerState.CANCELLED):
            status = await self._finish(
                request, LedgerState.CANCELLED, DeliveryState.CANCELLED, reason="message cancelled"
            )
        elif request.expires_at is not None and request.expires_at <= datetime.now(UTC):
            status = await self._finish(request, LedgerState.EXPIRED, DeliveryState.EXPIRED, reason="expired")
        else:
            status = await self._attempt(request)
        await self.publish_status(status)
        return status

    async def cancel(self, cancellation: MessageCancelled) -> None:
        """Stop every delivery of the message not yet handed; a repeated cancellation changes nothing."""
        async with self.sessions() as session, session.begin():
            await ledger.mark_cancelled(
                session, message_id=cancellation.message_id, cancelled_at=cancellation.cancelled_at
            )

    async def _attempt(self, request: RequestT) -> DeliveryStatusChanged:
        try:
            receipt: Receipt = await self.provider.send(request)
        except ContactInvalidError as exc:
            return await self._finish(
                request, LedgerState.FAILED, DeliveryState.CONTACT_INVALID, reason=exc.reason
            )
        except ProviderError as exc:
            return await self._finish(
                request, LedgerState.FAILED, DeliveryState.FAILED, reason=exc.reason, retryable=exc.retryable
            )
        async with self.sessions() as session, session.begin():
            await ledger.record(
                session,
                request=request,
                state=LedgerState.HANDED,
                provider=self.provider.name,
                provider_message_id=receipt.provider_message_id,
                segments=receipt.segments,
            )
        return self._status(
            request,
            DeliveryState.ACCEPTED,
            provider=self.provider.name,
            provider_message_id=receipt.provider_message_id,
            segments=receipt.segments,
        )

    async def _finish(
        self,
        request: RequestT,
        entry_state: LedgerState,
        state: DeliveryState,
        *,
        reason: str,
        retryable: bool = False,
    ) -> DeliveryStatusChanged:
        async with self.sessions() as session, session.begin():
            await ledger.record(
                session, request=request, state=entry_state, provider=self.provider.name, reason=reason
            )
        return self._status(request, state, provider=self.provider.name, reason=reason, retryable=retryable)

    def _status(
        self,
        request: RequestT,
        state: DeliveryState,
        *,
        provider: str | None,
        provider_message_id: str | None = None,
        segments: int | None = None,
        reason: str | None = None,
        retryable: bool = False,
    ) -> DeliveryStatusChanged:
        return DeliveryStatusChanged(
            delivery_id=request.delivery_id,
            message_id=request.message_id,
            subscriber_id=request.subscriber_id,
            contact_id=request.contact_id,
            channel=self.channel,
            state=state,
            occurred_at=datetime.now(UTC),
            provider=provider,
            provider_message_id=provider_message_id,
            reason=reason,
            retryable=retryable,
            segments=segments,
        )

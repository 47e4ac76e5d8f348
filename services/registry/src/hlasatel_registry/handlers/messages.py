"""What the city sent a citizen: for their own pages (with their access token) and for the city's citizen
portal (with its signed assertion), from the delivery history the composer keeps."""

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters.composer import ComposerHistory, ComposerUnavailable
from hlasatel_registry.adapters.orm import SubscriberRow
from hlasatel_registry.adapters.portal import PortalVerifier
from hlasatel_registry.citizen_schemas import MessageSentRead, MessagesRead
from hlasatel_registry.config import Settings
from hlasatel_registry.handlers.common import authorized_subscriber


def _sent(history: dict[str, Any]) -> list[MessageSentRead]:
    if "deliveries" not in history:
        raise ComposerUnavailable("the messages sent are kept by the composer, which is not configured")
    return [
        MessageSentRead(
            message_id=delivery["message_id"],
            headline=delivery.get("headline") or "",
            text=delivery.get("text") or "",
            category=delivery["category"],
            severity=delivery["severity"],
            channel=delivery["channel"],
            sent_at=delivery.get("message_approved_at"),
            state=delivery["state"],
            updated_at=delivery["updated_at"],
        )
        for delivery in history["deliveries"]
    ]


def _newest_first(messages: list[MessageSentRead]) -> list[MessageSentRead]:
    return sorted(messages, key=lambda sent: (sent.sent_at or sent.updated_at, sent.channel), reverse=True)


async def messages_of(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    history: ComposerHistory,
    subscriber_id: UUID,
    token: str | None,
) -> MessagesRead:
    """The messages sent to one subscription, for its owner."""
    async with sessions() as session:
        subscriber = await authorized_subscriber(
            session, keys=settings.keys(), subscriber_id=subscriber_id, token=token
        )
        language = subscriber.language
    found = await history.of(subscriber_id, language=language)
    return MessagesRead(kept_for_days=found.get("kept_for_days"), messages=_newest_first(_sent(found)))


async def portal_messages(
    *,
    sessions: async_sessionmaker[AsyncSession],
    history: ComposerHistory,
    portal: PortalVerifier,
    assertion: str,
) -> MessagesRead:
    """The messages sent to every subscription of the citizen the portal vouches for (none when they have
    not subscribed)."""
    identity = await portal.verify(assertion)
    async with sessions() as session:
        subscriptions = (
            await session.execute(
                select(SubscriberRow.id, SubscriberRow.language).where(
                    SubscriberRow.portal_subject == identity.subject
                )
            )
        ).all()
    messages: list[MessageSentRead] = []
    kept: float | None = None
    for subscriber_id, language in subscriptions:
        found = await history.of(subscriber_id, language=language)
        kept = found.get("kept_for_days", kept)
        messages += _sent(found)
    return MessagesRead(kept_for_days=kept, messages=_newest_first(messages))

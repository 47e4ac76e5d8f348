"""The citizen's rights over their data: everything held about them as JSON (GDPR article 15), and its
erasure (article 17), which reaches the composer and the dispatchers by the changelog's tombstone."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import SUBSCRIBERS, SubscriberErased
from hlasatel_contracts.addresses import label
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.composer import ComposerHistory
from hlasatel_registry.adapters.orm import ConsentRow, OutboxRow, SubscriberRow, VerificationCodeRow
from hlasatel_registry.config import Settings
from hlasatel_registry.handlers.common import authorized_subscriber, subscriber_read
from hlasatel_runtime.outbox import unit_of_work


async def export_subscriber(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    history: ComposerHistory,
    subscriber_id: UUID,
    token: str | None,
) -> dict[str, Any]:
    """Everything held about one subscriber (GDPR article 15): the registry's records, and the delivery
    history the composer keeps, which it is asked for."""
    async with sessions() as session:
        subscriber = await authorized_subscriber(
            session, keys=settings.keys(), subscriber_id=subscriber_id, token=token
        )
        consents = await session.scalars(
            select(ConsentRow).where(ConsentRow.subscriber_id == subscriber_id).order_by(ConsentRow.id)
        )
        contact_ids = [c.id for c in subscriber.contacts]
        codes = await session.scalars(
            select(VerificationCodeRow).where(VerificationCodeRow.contact_id.in_(contact_ids))
        )
        return {
            "subscriber": subscriber_read(subscriber).model_dump(mode="json"),
            "portal_subject": subscriber.portal_subject,
            "addresses": [
                {
                    "address_point": link.address_point_code,
                    "role": link.role,
                    "label": label(link.address),
                }
                for link in subscriber.addresses
            ],
            "contacts": [
                {
                    "id": str(c.id),
                    "channel": c.channel,
                    "value": c.value,
                    "active": c.active,
                    "verified_at": c.verified_at.isoformat() if c.verified_at else None,
                    "deactivated_reason": c.deactivated_reason,
                }
                for c in subscriber.contacts
            ],
            "consents": [
                {
                    "at": c.at.isoformat(),
                    "action": c.action,
                    "via": c.via,
                    "terms": c.terms,
                    "details": c.details,
                }
                for c in consents
            ],
            "verification_codes_sent": [
                {
                    "contact_id": str(c.contact_id),
                    "sent_at": c.created_at.isoformat(),
                    "used_at": c.used_at.isoformat() if c.used_at else None,
                }
                for c in codes
            ],
            "deliveries": await history.of(subscriber_id, language=subscriber.language),
        }


async def erase_subscriber(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    subscriber_id: UUID,
    token: str | None,
) -> None:
    """Delete everything about the subscriber and publish a tombstone (GDPR article 17)."""
    async with unit_of_work(sessions, relay) as session:
        subscriber = await authorized_subscriber(
            session, keys=settings.keys(), subscriber_id=subscriber_id, token=token
        )
        await erase(session, subscriber)


async def erase(session: AsyncSession, subscriber: SubscriberRow) -> None:
    """Delete the subscriber with everything about them, in the caller's transaction; the changelog gets
    a tombstone, so the composer's index and the dispatchers let go of them too."""
    tombstone = SubscriberErased(
        subscriber_id=subscriber.id, version=subscriber.version + 1, occurred_at=datetime.now(UTC)
    )
    subscriber_id = subscriber.id
    await session.delete(subscriber)
    # states and codes not yet relayed go too: only the tombstone leaves
    await session.execute(delete(OutboxRow).where(OutboxRow.key == str(subscriber_id)))
    outbox.enqueue(session, topic=SUBSCRIBERS, key=str(subscriber_id), event=tombstone)

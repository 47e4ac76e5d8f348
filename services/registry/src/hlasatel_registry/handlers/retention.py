"""What the registry keeps no longer than needed: registrations and contacts never verified.

A registration none of whose contacts was verified within REGISTRY_UNVERIFIED_TTL_H is erased (a
tombstone on the changelog, as for an erasure the citizen asked for); a phone or e-mail address added and
not verified within that time is removed from a subscription that lives on. Counted attempts older than a
day are forgotten.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.limits import forget_old_attempts
from hlasatel_registry.adapters.orm import ConsentRow, ContactRow, SubscriberRow
from hlasatel_registry.config import Settings
from hlasatel_registry.handlers.common import announce
from hlasatel_registry.handlers.erasure import erase


async def forget_unverified(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    now: datetime | None = None,
    batch_size: int = 200,
) -> tuple[int, int]:
    """Erase registrations never verified and remove contacts never verified; returns how many of each."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(hours=settings.unverified_ttl_h)
    async with sessions() as session, session.begin():
        erased = await _erase_unverified(session, cutoff, batch_size)
        removed = await _remove_unverified_contacts(session, settings, cutoff, batch_size)
        await forget_old_attempts(session, older_than=timedelta(days=1))
    if erased or removed:
        relay.wake()
    return erased, removed


async def _erase_unverified(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    verified = select(ContactRow.subscriber_id).where(ContactRow.verified_at.is_not(None))
    stale = await session.scalars(
        select(SubscriberRow)
        .where(SubscriberRow.created_at < cutoff, SubscriberRow.id.not_in(verified))
        .limit(limit)
        .with_for_update()
    )
    count = 0
    for subscriber in stale:
        await erase(session, subscriber)
        count += 1
    return count


async def _remove_unverified_contacts(
    session: AsyncSession, settings: Settings, cutoff: datetime, limit: int
) -> int:
    added = func.coalesce(ContactRow.created_at, SubscriberRow.created_at)
    stale_owners = (
        select(ContactRow.subscriber_id)
        .join(SubscriberRow, ContactRow.subscriber_id == SubscriberRow.id)
        .where(ContactRow.verified_at.is_(None), added < cutoff)
    )
    owners = list(
        await session.scalars(
            select(SubscriberRow).where(SubscriberRow.id.in_(stale_owners)).limit(limit).with_for_update()
        )
    )
    count = 0
    for subscriber in owners:
        stale = [
            c
            for c in subscriber.contacts
            if c.verified_at is None and (c.created_at or subscriber.created_at) < cutoff
        ]
        for contact in stale:
            subscriber.contacts.remove(contact)
        session.add(
            ConsentRow(
                subscriber_id=subscriber.id,
                at=datetime.now(UTC),
                action="unverified_contacts_removed",
                via="retention",
                terms="hlasatel-2026",
                details={"channels": sorted({c.channel for c in stale})},
            )
        )
        await announce(session, subscriber, settings.keys())
        count += len(stale)
    return count

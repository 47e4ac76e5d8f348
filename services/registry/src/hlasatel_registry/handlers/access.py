"""A new access token for a citizen who lost theirs: they prove a verified phone or e-mail address with a
code sent to it. The answer to asking for a code never says whether the contact is registered."""

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import Channel
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.orm import ConsentRow, ContactRow, SubscriberRow
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.codes import hashed_by_any, keyed_hash, new_token
from hlasatel_registry.handlers.verification import (
    ACCESS,
    NoValidCode,
    count_wrong_code,
    issue_code,
    latest_code,
    wrong_attempt,
    wrong_codes_allowed,
)
from hlasatel_registry.schemas import AccessGranted
from hlasatel_runtime.errors import SafeError
from hlasatel_runtime.outbox import unit_of_work

TERMS = "hlasatel-2026"


async def _verified_contacts(session: AsyncSession, channel: Channel, value: str) -> list[ContactRow]:
    """Every subscription's verified, active contact with this value (one phone may serve several)."""
    found = await session.scalars(
        select(ContactRow)
        .where(
            ContactRow.channel == channel.value,
            ContactRow.value == value,
            ContactRow.verified_at.is_not(None),
            ContactRow.active.is_(True),
        )
        .order_by(ContactRow.subscriber_id)
    )
    return list(found)


async def request_access_code(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    channel: Channel,
    value: str,
    ip: str | None,
) -> None:
    """Send a code to the contact if it is a verified one; the same answer when it is not."""
    async with unit_of_work(sessions, relay) as session:
        contacts = await _verified_contacts(session, channel, value)
        if not contacts:
            return
        first = contacts[0]
        subscriber = await session.get(SubscriberRow, first.subscriber_id)
        assert subscriber is not None
        await issue_code(
            session, settings=settings, subscriber=subscriber, contact=first, ip=ip, purpose=ACCESS
        )


async def grant_access(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    channel: Channel,
    value: str,
    code: str,
    ip: str | None,
) -> AccessGranted:
    """A new access token for every subscription the proven contact belongs to; the old ones stop working."""
    async with sessions() as session:
        async with session.begin():
            await wrong_codes_allowed(session, settings, ip)
            contacts = await _verified_contacts(session, channel, value)
            row = await latest_code(session, contacts[0].id, ACCESS) if contacts else None
            failure: SafeError
            if row is None:
                count_wrong_code(session, settings, ip)
                failure = NoValidCode("no valid code: request a new one")
            elif not hashed_by_any(settings.keys().all, row.code_hash, str(row.contact_id), code.strip()):
                failure = wrong_attempt(session, settings, row, ip)
            else:
                row.used_at = datetime.now(UTC)
                return AccessGranted(
                    subscriptions=[
                        await _new_token(session, settings, contact.subscriber_id, channel)
                        for contact in contacts
                    ]
                )
        raise failure


async def _new_token(
    session: AsyncSession, settings: Settings, subscriber_id: UUID, channel: Channel
) -> dict[str, str]:
    subscriber = await session.get(SubscriberRow, subscriber_id, with_for_update=True)
    assert subscriber is not None
    token = new_token()
    subscriber.access_token_hash = keyed_hash(settings.secret_key.get_secret_value(), "access", token)
    session.add(
        ConsentRow(
            subscriber_id=subscriber_id,
            at=datetime.now(UTC),
            action="access_token_renewed",
            via=f"{channel.value}_code",
            terms=TERMS,
            details={},
        )
    )
    return {"subscriber_id": str(subscriber_id), "access_token": token}

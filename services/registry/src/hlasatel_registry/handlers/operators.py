"""The registry's operators at the city office: they find and erase a subscription whose owner lost the
access token, with a key of their own, and every such act is in the operators' audit log."""

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.orm import ContactRow, OperatorAuditRow, OperatorKeyRow, SubscriberRow
from hlasatel_registry.handlers.common import NotAuthorized, NotFound, subscriber_read
from hlasatel_registry.handlers.erasure import erase
from hlasatel_registry.schemas import ContactLookup, OperatorAuditRead, SubscriptionFound
from hlasatel_runtime.outbox import unit_of_work

KEY_PREFIX = "hro_"


def _hash(key: str) -> str:
    """A random 256-bit key needs no salt or slow hash."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_operator_key(session: AsyncSession, *, name: str) -> str:
    """A new operator key; shown once, stored hashed."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(OperatorKeyRow(id=uuid4(), name=name, key_hash=_hash(key), created_at=datetime.now(UTC)))
    return key


async def operator_for(session: AsyncSession, key: str | None) -> OperatorKeyRow:
    row = (
        None
        if not key
        else await session.scalar(
            select(OperatorKeyRow).where(
                OperatorKeyRow.key_hash == _hash(key), OperatorKeyRow.revoked_at.is_(None)
            )
        )
    )
    if row is None:
        raise NotAuthorized("an operator key is required")
    return row


def _audit(
    session: AsyncSession,
    operator: OperatorKeyRow,
    action: str,
    *,
    subscriber_id: UUID | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        OperatorAuditRow(
            at=datetime.now(UTC),
            operator=operator.name,
            operator_key_id=operator.id,
            action=action,
            subscriber_id=subscriber_id,
            reason=reason,
            detail=detail,
        )
    )


async def lookup(
    *, sessions: async_sessionmaker[AsyncSession], key: str | None, question: ContactLookup
) -> list[SubscriptionFound]:
    """The subscriptions that have this contact (audited: who asked, why, how many were found)."""
    async with sessions() as session, session.begin():
        operator = await operator_for(session, key)
        ids = await session.scalars(
            select(ContactRow.subscriber_id).where(
                ContactRow.channel == question.channel.value, ContactRow.value == question.value
            )
        )
        found = [row for sid in dict.fromkeys(ids) if (row := await session.get(SubscriberRow, sid))]
        _audit(
            session,
            operator,
            "lookup",
            reason=question.reason,
            detail={"channel": question.channel.value, "found": len(found)},
        )
        return [
            SubscriptionFound(
                subscriber_id=row.id,
                created_at=row.created_at,
                identity_level=read.identity_level,
                addresses=read.addresses,
            )
            for row in found
            for read in [subscriber_read(row)]
        ]


async def erase_subscription(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    key: str | None,
    subscriber_id: UUID,
    reason: str,
) -> None:
    """Erase a subscription for its owner, who has no access token; the audit keeps who, when and why."""
    async with unit_of_work(sessions, relay) as session:
        operator = await operator_for(session, key)
        subscriber = await session.get(SubscriberRow, subscriber_id, with_for_update=True)
        if subscriber is None:
            raise NotFound("no such subscriber")
        await erase(session, subscriber)
        _audit(session, operator, "erased", subscriber_id=subscriber_id, reason=reason)


async def audit_log(
    *, sessions: async_sessionmaker[AsyncSession], key: str | None, limit: int
) -> list[OperatorAuditRead]:
    async with sessions() as session:
        await operator_for(session, key)
        rows = await session.scalars(
            select(OperatorAuditRow).order_by(OperatorAuditRow.id.desc()).limit(limit)
        )
        return [
            OperatorAuditRead(
                at=row.at,
                operator=row.operator,
                action=row.action,
                subscriber_id=row.subscriber_id,
                reason=row.reason,
                detail=row.detail,
            )
            for row in rows
        ]

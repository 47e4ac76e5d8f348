"""What the message use cases share: errors, fixing a message's target, reading a message back."""

import asyncio
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters import reports
from hlasatel_composer.adapters.orm import DeliveryRow, MessageRow
from hlasatel_composer.adapters.recipients import resolve_target
from hlasatel_composer.domain.cap_export import drawn_area
from hlasatel_composer.domain.message import InvalidTransition, MessageNotFound
from hlasatel_composer.domain.messages import Content, MessageState, Severity
from hlasatel_composer.domain.privacy import narrowed, shown, shown_counts
from hlasatel_composer.domain.register import Resolved
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.schemas import MessageRead, ReviewRead

__all__ = [
    "InvalidTransition",
    "MessageNotFound",
    "is_narrowed",
    "message_for_update",
    "message_read",
    "resolve_message",
    "target_of",
]


async def resolve_message(session: AsyncSession, *, target: Target, message_id: UUID) -> tuple[Resolved, Any]:
    """Fix a message's target to the register's address points (stored under its id), and the area they
    make for a map: the CAP polygons its export shows."""
    resolved = await resolve_target(session, target=target, into=message_id)
    area = await asyncio.to_thread(drawn_area, target, resolved.points())
    return resolved, area


async def message_for_update(session: AsyncSession, message_id: UUID) -> MessageRow:
    row = await session.get(MessageRow, message_id, with_for_update=True)
    if row is None:
        raise MessageNotFound(f"no message {message_id}")
    return row


async def target_of(session: AsyncSession, row: MessageRow) -> Target | None:
    """The target whose audience the message reaches: its own, or, for a follow-up, its original's."""
    root = row if row.follows is None else await session.get(MessageRow, row.follows)
    return Target.model_validate(root.target) if root is not None and root.target else None


async def is_narrowed(session: AsyncSession, row: MessageRow) -> bool:
    """Its audience was chosen by language, role or identity: counts below 5 are not shown."""
    target = await target_of(session, row)
    return target is not None and narrowed(target.filters)


async def message_read(session: AsyncSession, row: MessageRow) -> MessageRead:
    """The message with its deliveries counted per channel and state."""
    recipients = await session.scalar(
        select(func.count(func.distinct(DeliveryRow.subscriber_id))).where(DeliveryRow.message_id == row.id)
    )
    narrow = await is_narrowed(session, row)
    counts = await reports.delivery_counts(session, row.id)
    return MessageRead(
        id=row.id,
        state=MessageState(row.state),
        severity=Severity(row.severity),
        category=row.category,
        content=Content.model_validate(row.content),
        target=Target.model_validate(row.target) if row.target else None,
        follows=row.follows,
        alert_id=row.alert_id,
        kind=row.kind,
        sms_transliterate=row.sms_transliterate,
        author=row.author,
        author_key_id=row.author_key_id,
        approved_by=row.approved_by,
        review=ReviewRead.model_validate(row.review) if row.review else None,
        created_at=row.created_at,
        approved_at=row.approved_at,
        send_at=row.send_at,
        expires_at=row.expires_at,
        cancelled_at=row.cancelled_at,
        failure=row.failure,
        recipients=shown(recipients or await reports.purged_recipients(session, row), narrow=narrow),
        deliveries={channel: shown_counts(c, narrow=narrow) for channel, c in counts.items()},
        waiting_for_quiet_hours=shown(await reports.waiting_for_quiet_hours(session, row.id), narrow=narrow),
    )

"""What the composer holds of one subscriber's deliveries: for their export, asked by the registry."""

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import DeliveryRow, MessageHousehold, MessageRow
from hlasatel_composer.domain.access import Principal, Role, require
from hlasatel_composer.domain.cap_export import headline
from hlasatel_composer.domain.messages import Content
from hlasatel_contracts import Channel, Language


def what_was_sent(content: dict[str, Any], language: Language, channel: str) -> tuple[str, str]:
    """A message as the subscriber got it on this channel, in their language where it had one: its
    headline and its text."""
    sent = Content.model_validate(content).for_language(language, Channel(channel))
    if channel == Channel.EMAIL.value and sent.email is not None:
        return sent.email.subject, sent.email.text
    if channel == Channel.PUSH.value and sent.push is not None:
        return sent.push.title, sent.push.body
    return headline(sent), sent.sms or ""


async def delivery_history(
    *,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    subscriber_id: UUID,
    keep_days: float,
    language: Language = Language.CS,
) -> dict[str, Any]:
    """Every delivery the composer still keeps for the subscriber, with what it said (in the subscriber's
    language), its message's category, kind and times, and the address points it was sent for; kept
    `keep_days` after a message went out (registry)."""
    require(principal, Role.REGISTRY)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    DeliveryRow,
                    MessageRow.category,
                    MessageRow.severity,
                    MessageRow.kind,
                    MessageRow.approved_at,
                    MessageRow.content,
                )
                .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
                .where(DeliveryRow.subscriber_id == subscriber_id)
                .order_by(DeliveryRow.updated_at)
            )
        ).all()
        households: dict[UUID, list[int]] = {}
        for message_id, code in await session.execute(
            select(MessageHousehold.message_id, MessageHousehold.address_point_code).where(
                MessageHousehold.subscriber_id == subscriber_id
            )
        ):
            households.setdefault(message_id, []).append(code)
    deliveries = []
    for delivery, category, severity, kind, approved_at, content in rows:
        title, text = what_was_sent(content, language, delivery.channel)
        deliveries.append(
            {
                "message_id": str(delivery.message_id),
                "headline": title,
                "text": text,
                "category": category,
                "severity": severity,
                "kind": kind,
                "message_approved_at": approved_at.isoformat() if approved_at else None,
                "channel": delivery.channel,
                "contact_id": str(delivery.contact_id) if delivery.contact_id else None,
                "state": delivery.state,
                "reason": delivery.reason,
                "updated_at": delivery.updated_at.isoformat(),
                "held_for_quiet_hours": delivery.held_request is not None,
                "address_points": sorted(households.get(delivery.message_id, [])),
            }
        )
    return {"held_by": "composer", "kept_for_days": keep_days, "deliveries": deliveries}

"""The composer's use cases: each takes its input and its dependencies by name."""

from collections import defaultdict
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.fanout import FanOut
from hlasatel_composer.adapters.orm import DeliveryRow, MessageRow
from hlasatel_composer.adapters.recipients import preview_counts
from hlasatel_composer.domain.deliveries import rank
from hlasatel_composer.domain.messages import Content, MessageState, Severity, Target
from hlasatel_composer.schemas import MessageCreate, MessageRead, PreviewRead, PreviewRequest
from hlasatel_contracts import DeliveryStatusChanged
from hlasatel_runtime.errors import SafeError


class MessageNotFound(SafeError):
    """No message has that id."""


class InvalidTransition(SafeError):
    """The message is not in a state that allows this."""


async def create_message(*, sessions: async_sessionmaker[AsyncSession], data: MessageCreate) -> MessageRead:
    """Store a draft."""
    row = MessageRow(
        id=uuid4(),
        state=MessageState.DRAFT.value,
        severity=data.severity.value,
        category=data.category,
        content=data.content.model_dump(mode="json", exclude_none=True),
        target=data.target.model_dump(mode="json"),
        created_at=datetime.now(UTC),
        expires_at=data.expires_at,
    )
    async with sessions() as session, session.begin():
        session.add(row)
    return _read(row, {})


async def approve_message(
    *, sessions: async_sessionmaker[AsyncSession], fan_out: FanOut, message_id: UUID
) -> MessageRead:
    """Approve a draft; fan-out starts at once in the background."""
    async with sessions() as session, session.begin():
        row = await session.get(MessageRow, message_id, with_for_update=True)
        if row is None:
            raise MessageNotFound(f"no message {message_id}")
        if row.state != MessageState.DRAFT:
            raise InvalidTransition(f"message is {row.state}, only a draft can be approved")
        row.state = MessageState.APPROVED.value
        row.approved_at = datetime.now(UTC)
    fan_out.wake()
    return await get_message(sessions=sessions, message_id=message_id)


async def get_message(*, sessions: async_sessionmaker[AsyncSession], message_id: UUID) -> MessageRead:
    async with sessions() as session:
        row = await session.get(MessageRow, message_id)
        if row is None:
            raise MessageNotFound(f"no message {message_id}")
        counts = (
            await session.execute(
                select(DeliveryRow.channel, DeliveryRow.state, func.count())
                .where(DeliveryRow.message_id == message_id)
                .group_by(DeliveryRow.channel, DeliveryRow.state)
            )
        ).all()
        recipients = await session.scalar(
            select(func.count(func.distinct(DeliveryRow.subscriber_id))).where(
                DeliveryRow.message_id == message_id
            )
        )
    deliveries: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, state, count in counts:
        deliveries[channel][state] = count
    return _read(row, dict(deliveries), recipients or 0)


async def apply_status(*, sessions: async_sessionmaker[AsyncSession], status: DeliveryStatusChanged) -> bool:
    """Record a dispatcher's status unless the delivery already got further. Returns whether it applied."""
    new_rank = rank(status.state, retryable=status.retryable)
    async with sessions() as session, session.begin():
        row = await session.get(DeliveryRow, status.delivery_id, with_for_update=True)
        if row is None or new_rank <= row.rank:
            return False
        row.state = status.state.value
        row.rank = new_rank
        row.reason = status.reason
        row.updated_at = status.occurred_at
    return True


async def preview(*, sessions: async_sessionmaker[AsyncSession], request: PreviewRequest) -> PreviewRead:
    """What a target reaches, before anything is sent."""
    async with sessions() as session:
        points, subscribers, per_channel, streets = await preview_counts(
            session, target=request.target, category=request.category
        )
    return PreviewRead(
        address_points=points,
        subscribers=subscribers,
        deliveries={channel.value: count for channel, count in per_channel.items()},
        streets=streets,
    )


def _read(row: MessageRow, deliveries: dict[str, dict[str, int]], recipients: int = 0) -> MessageRead:
    return MessageRead(
        id=row.id,
        state=MessageState(row.state),
        severity=Severity(row.severity),
        category=row.category,
        content=Content.model_validate(row.content),
        target=Target.model_validate(row.target),
        created_at=row.created_at,
        approved_at=row.approved_at,
        expires_at=row.expires_at,
        recipients=recipients,
        deliveries=deliveries,
    )

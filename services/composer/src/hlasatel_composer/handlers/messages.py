"""Messages: draft, approve (four eyes), update, cancel, read. Every change of a message's state is its
aggregate's (`domain.message.Message`); these use cases load it, check the key's scope, and commit."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import select

from hlasatel_composer.adapters import reports
from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_composer.adapters.recipients import selected_points
from hlasatel_composer.adapters.uow import UnitOfWork, UnitOfWorkFactory, row_of
from hlasatel_composer.domain.access import (
    Principal,
    Role,
    check_area,
    check_category,
    check_emergency,
    require,
)
from hlasatel_composer.domain.message import Message
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.handlers.common import message_read, resolve_message
from hlasatel_composer.handlers.planning import audience_of
from hlasatel_composer.handlers.scope import acted_on, check_acts_on, may_see, visible
from hlasatel_composer.schemas import FollowUpCreate, MessageCreate, MessageRead


async def create_message(*, uow: UnitOfWorkFactory, principal: Principal, data: MessageCreate) -> MessageRead:
    """Store a draft."""
    require(principal, Role.EDITOR)
    check_category(principal, data.category)
    check_emergency(principal, data.severity.value)
    async with uow() as work:
        if principal.scope.area is not None:
            check_area(principal, await selected_points(work.session, data.target))
        message = work.messages.add(
            id=uuid4(),
            severity=data.severity.value,
            category=data.category,
            content=data.content.model_dump(mode="json", exclude_none=True),
            target=data.target.model_dump(mode="json", exclude_defaults=True),
            sms_transliterate=data.sms_transliterate,
            author=principal.name,
            author_key_id=principal.key_id,
            created_at=datetime.now(UTC),
            send_at=data.send_at,
            expires_at=data.expires_at,
        )
        await work.audit(actor=principal, action="message.created", message_id=message.id)
        read = await message_read(work.session, row_of(message))
        await work.commit()
    return read


async def create_follow_up(
    *, uow: UnitOfWorkFactory, principal: Principal, message_id: UUID, data: FollowUpCreate
) -> MessageRead:
    """Draft an update or an all-clear to exactly the recipients of a message already sent."""
    require(principal, Role.EDITOR)
    async with uow() as work:
        original = await acted_on(work, principal, message_id)
        severity = data.severity or original.severity
        check_emergency(principal, severity.value)
        original.check_can_be_followed()
        message = work.messages.add(
            id=uuid4(),
            severity=severity.value,
            category=original.record.category,
            content=data.content.model_dump(mode="json", exclude_none=True),
            target=original.record.target,
            follows=original.record.follows or original.id,
            sms_transliterate=data.sms_transliterate,
            author=principal.name,
            author_key_id=principal.key_id,
            created_at=datetime.now(UTC),
            expires_at=data.expires_at,
        )
        await work.audit(
            actor=principal,
            action="message.follow_up",
            message_id=message.id,
            detail={"follows": str(message_id)},
        )
        read = await message_read(work.session, row_of(message))
        await work.commit()
    return read


async def approve_message(
    *, uow: UnitOfWorkFactory, principal: Principal, message_id: UUID, four_eyes_threshold: int
) -> MessageRead:
    """Approve a draft: its target is fixed to address points now, and fan-out starts once committed."""
    require(principal, Role.APPROVER)
    async with uow() as work:
        await visible(work.session, principal, message_id)
        message = await work.messages.must(message_id)
        check_category(principal, message.record.category)
        message.check_approvable()
        # an alert's target was resolved, and checked against its sender's area, when it arrived
        if message.record.follows is None and message.record.alert_id is None and message.target is not None:
            _, row_of(message).area = await resolve_message(
                work.session, target=message.target, message_id=message.id
            )
        await check_acts_on(work.session, principal, row_of(message))
        reach = await reports.measure_reach(
            work.session, audience=audience_of(row_of(message)), channels=message.content.channels()
        )
        await approve(
            work, message, by=principal, subscribers=reach.subscribers, threshold=four_eyes_threshold
        )
        await work.audit(
            actor=principal,
            action="message.approved",
            message_id=message.id,
            target_size=reach.subscribers,
            detail={"address_points": reach.households, "author": message.record.author},
        )
        await work.commit()
    return await get_message(uow=uow, message_id=message_id)


async def approve(
    work: UnitOfWork,
    message: Message,
    *,
    by: Principal,
    subscribers: int,
    threshold: int,
    note: str = "",
) -> None:
    """The message approved, and the drafts that go out with it."""
    now = datetime.now(UTC)
    message.approve(by=by, at=now, subscribers=subscribers, four_eyes_threshold=threshold, note=note)
    for companion in await work.messages.companions(message.id):
        companion.approve(
            by=by, at=now, subscribers=0, four_eyes_threshold=threshold, note=note, companion=True
        )


async def cancel_message(*, uow: UnitOfWorkFactory, principal: Principal, message_id: UUID) -> MessageRead:
    """Stop a message: no further fan-out, held deliveries dropped, dispatchers told to send nothing more
    (through the outbox, once the cancellation is committed)."""
    require(principal, Role.APPROVER)
    async with uow() as work:
        message = await acted_on(work, principal, message_id)
        await stop(work, message, actor=principal)
        await work.commit()
    return await get_message(uow=uow, message_id=message_id)


async def stop(work: UnitOfWork, message: Message, *, actor: Principal) -> None:
    """Cancel a message and the drafts that would go out with it, in the unit of work."""
    now = datetime.now(UTC)
    message.cancel(at=now)
    for companion in await work.messages.companions(message.id):
        companion.cancel(at=now)
    held = await work.deliveries.drop_held(message.id, at=now, reason="message cancelled")
    await work.audit(
        actor=actor,
        action="message.cancelled",
        message_id=message.id,
        detail={"held_deliveries_dropped": held},
    )


async def get_message(
    *, uow: UnitOfWorkFactory, message_id: UUID, principal: Principal | None = None
) -> MessageRead:
    """The message with its deliveries counted, to a key that may see it."""
    async with uow() as work:
        if principal is not None:
            require(principal, Role.UTILITY)
            row = await visible(work.session, principal, message_id)
        else:
            row = row_of(await work.messages.must(message_id, lock=False))
        return await message_read(work.session, row)


async def list_messages(
    *,
    uow: UnitOfWorkFactory,
    principal: Principal,
    state: MessageState | None,
    limit: int,
    since: datetime | None = None,
) -> list[MessageRead]:
    """The newest messages the key may see first, optionally in one state: drafts are the approvers'
    queue (editor)."""
    require(principal, Role.EDITOR)
    query = select(MessageRow).order_by(MessageRow.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(MessageRow.state == state.value)
    if since is not None:
        query = query.where(MessageRow.created_at >= since)
    if principal.scope.categories is not None:
        query = query.where(MessageRow.category.in_(sorted(principal.scope.categories)))
    async with uow() as work:
        return [
            await message_read(work.session, row)
            for row in await work.session.scalars(query)
            if await may_see(work.session, principal, row)
        ]

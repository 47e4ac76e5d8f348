"""A draft between its author and an approver: changed by the press office, rejected with a reason, or
returned for changes with a reason. Each decision is the aggregate's; each is in the audit log."""

from datetime import UTC, datetime
from uuid import UUID

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
from hlasatel_composer.domain.message import InvalidTransition, Message
from hlasatel_composer.handlers.messages import get_message
from hlasatel_composer.handlers.scope import acted_on
from hlasatel_composer.schemas import MessageRead, MessageUpdate


async def update_message(
    *, uow: UnitOfWorkFactory, principal: Principal, message_id: UUID, data: MessageUpdate
) -> MessageRead:
    """Change a draft within the key's scope; it then waits for an approver again (editor)."""
    require(principal, Role.EDITOR)
    async with uow() as work:
        message = await acted_on(work, principal, message_id)
        message.check_changed_by(principal)
        changed = data.model_dump(exclude_unset=True)
        await _apply(work, message, principal=principal, data=data)
        message.edited()
        await work.audit(
            actor=principal,
            action="message.edited",
            message_id=message.id,
            detail={"changed": sorted(changed)},
        )
        await work.commit()
    return await get_message(uow=uow, message_id=message_id)


async def _apply(work: UnitOfWork, message: Message, *, principal: Principal, data: MessageUpdate) -> None:
    record = row_of(message)
    if data.category is not None:
        check_category(principal, data.category)
        record.category = data.category
    if data.severity is not None:
        check_emergency(principal, data.severity.value)
        record.severity = data.severity.value
    if data.content is not None:
        record.content = data.content.model_dump(mode="json", exclude_none=True)
    if data.target is not None:
        if record.follows is not None:
            raise InvalidTransition("an update reaches exactly its original's recipients: its target stays")
        if principal.scope.area is not None:
            check_area(principal, await selected_points(work.session, data.target))
        record.target = data.target.model_dump(mode="json", exclude_defaults=True)
    for field in ("sms_transliterate", "send_at", "expires_at"):
        if field in data.model_fields_set:
            value = getattr(data, field)
            if field != "sms_transliterate" or value is not None:
                setattr(record, field, value)


async def reject_message(
    *, uow: UnitOfWorkFactory, principal: Principal, message_id: UUID, reason: str
) -> MessageRead:
    """Refuse a draft for good, with the reason its author is shown (approver)."""
    return await _review(uow=uow, principal=principal, message_id=message_id, reason=reason, reject=True)


async def return_message(
    *, uow: UnitOfWorkFactory, principal: Principal, message_id: UUID, reason: str
) -> MessageRead:
    """Hand a draft back to its author to change, saying what (approver)."""
    return await _review(uow=uow, principal=principal, message_id=message_id, reason=reason, reject=False)


async def _review(
    *, uow: UnitOfWorkFactory, principal: Principal, message_id: UUID, reason: str, reject: bool
) -> MessageRead:
    require(principal, Role.APPROVER)
    async with uow() as work:
        message = await acted_on(work, principal, message_id)
        now = datetime.now(UTC)
        if reject:
            message.reject(by=principal, at=now, reason=reason)
            for companion in await work.messages.companions(message.id):
                companion.cancel(at=now)
        else:
            message.return_for_edit(by=principal, at=now, reason=reason)
        await work.audit(
            actor=principal,
            action="message.rejected" if reject else "message.returned",
            message_id=message.id,
            detail={"reason": reason, "author": message.record.author},
        )
        await work.commit()
    return await get_message(uow=uow, message_id=message_id)

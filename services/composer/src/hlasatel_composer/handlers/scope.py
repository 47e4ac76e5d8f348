"""A key's scope on every route: which messages it may see, and whether a message lies within its area."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import MessageRow, TargetPoint
from hlasatel_composer.adapters.recipients import selected_points
from hlasatel_composer.adapters.register import current_register
from hlasatel_composer.adapters.uow import UnitOfWork, row_of
from hlasatel_composer.domain.access import OutOfScope, Principal, Role, check_area, check_category
from hlasatel_composer.domain.message import Message
from hlasatel_composer.domain.register import Resolved
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.handlers.common import MessageNotFound, target_of


def root_id(row: MessageRow) -> UUID:
    """The message whose target a follow-up reaches the recipients of: its own for any other message."""
    return row.follows or row.id


async def points_of(session: AsyncSession, row: MessageRow) -> Resolved:
    """The address points a message is for: those its target resolved to when approved, or, for a draft,
    those it selects now."""
    root = row if row.follows is None else await session.get(MessageRow, row.follows)
    register = await current_register(session)
    if root is None:
        return Resolved(register, [])
    codes = list(
        await session.scalars(
            select(TargetPoint.address_point_code).where(TargetPoint.resolution_id == root.id)
        )
    )
    if codes or root.target is None or root.state != "draft":
        return Resolved(register, codes)
    return await selected_points(session, Target.model_validate(root.target))


async def check_message_area(session: AsyncSession, principal: Principal, row: MessageRow) -> None:
    """A key with an area acts only on messages whose every address point lies in it."""
    if principal.scope.area is None:
        return
    target = await target_of(session, row)
    if target is not None and target.is_whole_city():
        raise OutOfScope(f"'{principal.name}' acts within its area only; this message is for the whole city")
    check_area(principal, await points_of(session, row))


async def check_acts_on(session: AsyncSession, principal: Principal, row: MessageRow) -> None:
    """May this key approve, cancel or follow up the message: its category and area (403 naming why)."""
    check_category(principal, row.category)
    await check_message_area(session, principal, row)


async def may_see(session: AsyncSession, principal: Principal, row: MessageRow) -> bool:
    """A utility sees what it sent; the press office what lies within its categories and area."""
    if principal.role is Role.REGISTRY:
        return False
    if principal.role is Role.UTILITY or row.author_key_id == principal.key_id:
        return row.author_key_id == principal.key_id
    categories = principal.scope.categories
    if categories is not None and row.category not in categories:
        return False
    try:
        await check_message_area(session, principal, row)
    except OutOfScope:
        return False
    return True


async def visible(session: AsyncSession, principal: Principal, message_id: UUID) -> MessageRow:
    """The message, if the key may see it; to any other key it does not exist."""
    row = await session.get(MessageRow, message_id)
    if row is None or not await may_see(session, principal, row):
        raise MessageNotFound(f"no message {message_id}")
    return row


async def acted_on(work: UnitOfWork, principal: Principal, message_id: UUID) -> Message:
    """The message this key is about to change (approve, reject, cancel, edit, follow up), locked for it:
    to a key that may not see it, it does not exist (404); outside its categories or area, 403 naming why."""
    await visible(work.session, principal, message_id)
    message = await work.messages.must(message_id)
    await check_acts_on(work.session, principal, row_of(message))
    return message

"""Messages: draft, preview, approve (four eyes), update, cancel, statuses."""

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access, reports
from hlasatel_composer.adapters.fanout import FanOut, audience_of
from hlasatel_composer.adapters.orm import DeliveryRow, IndexedPoint, MessageRow
from hlasatel_composer.adapters.recipients import Audience, resolve_target, selected_points
from hlasatel_composer.domain.access import (
    Principal,
    Role,
    check_area,
    check_category,
    check_emergency,
    check_four_eyes,
    needs_second_pair_of_eyes,
    require,
)
from hlasatel_composer.domain.deliveries import rank
from hlasatel_composer.domain.messages import Content, MessageState, Severity
from hlasatel_composer.domain.privacy import narrowed, shown
from hlasatel_composer.domain.ratelimit import RateLimiter
from hlasatel_composer.domain.requests import sms_lengths
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.handlers.common import (
    InvalidTransition,
    MessageNotFound,
    message_for_update,
    message_read,
)
from hlasatel_composer.handlers.scope import check_acts_on, may_see, visible
from hlasatel_composer.schemas import (
    FollowUpCreate,
    MessageCreate,
    MessageRead,
    PreviewRead,
    PreviewRequest,
    SmsLengthRead,
)
from hlasatel_contracts import Channel, DeliveryState, DeliveryStatusChanged, MessageCancelled

PublishCancellation = Callable[[MessageCancelled], Awaitable[None]]


async def create_message(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, data: MessageCreate
) -> MessageRead:
    """Store a draft."""
    require(principal, Role.EDITOR)
    check_category(principal, data.category)
    check_emergency(principal, data.severity.value)
    row = MessageRow(
        id=uuid4(),
        state=MessageState.DRAFT.value,
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
    async with sessions() as session, session.begin():
        if principal.scope.area is not None:
            await asyncio.to_thread(check_area, principal, await selected_points(session, data.target))
        session.add(row)
        await access.audit(session, actor=principal, action="message.created", message_id=row.id)
        return await message_read(session, row)


async def create_follow_up(
    *,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    message_id: UUID,
    data: FollowUpCreate,
) -> MessageRead:
    """Draft an update or an all-clear to exactly the recipients of a message already sent."""
    require(principal, Role.EDITOR)
    async with sessions() as session, session.begin():
        await visible(session, principal, message_id)
        original = await message_for_update(session, message_id)
        await check_acts_on(session, principal, original)
        severity = data.severity or Severity(original.severity)
        check_emergency(principal, severity.value)
        if original.state not in (MessageState.DONE, MessageState.CANCELLED):
            raise InvalidTransition(
                f"message is {original.state}: an update follows a message once it has been sent"
            )
        if original.purged_at is not None:
            raise InvalidTransition(
                "whom this message reached is no longer kept (deleted after the retention period): "
                "write a new message to its area instead"
            )
        row = MessageRow(
            id=uuid4(),
            state=MessageState.DRAFT.value,
            severity=severity.value,
            category=original.category,
            content=data.content.model_dump(mode="json", exclude_none=True),
            target=original.target,
            follows=original.follows or original.id,
            sms_transliterate=data.sms_transliterate,
            author=principal.name,
            author_key_id=principal.key_id,
            created_at=datetime.now(UTC),
            expires_at=data.expires_at,
        )
        session.add(row)
        await access.audit(
            session,
            actor=principal,
            action="message.follow_up",
            message_id=row.id,
            detail={"follows": str(message_id)},
        )
        return await message_read(session, row)


async def approve_message(
    *,
    sessions: async_sessionmaker[AsyncSession],
    fan_out: FanOut,
    principal: Principal,
    message_id: UUID,
    four_eyes_threshold: int,
) -> MessageRead:
    """Approve a draft: its target is fixed to address points now, and fan-out starts at once."""
    require(principal, Role.APPROVER)
    async with sessions() as session, session.begin():
        await visible(session, principal, message_id)
        row = await message_for_update(session, message_id)
        check_category(principal, row.category)
        if row.state != MessageState.DRAFT:
            raise InvalidTransition(f"message is {row.state}, only a draft can be approved")
        if row.unless_at is not None:
            raise InvalidTransition(
                f"this message goes out with the update it belongs to: approve message {row.unless_at}"
            )
        # an alert's target was resolved, and checked against its sender's area, when it arrived
        if row.follows is None and row.alert_id is None:
            assert row.target is not None
            await resolve_target(session, target=Target.model_validate(row.target), into=row.id)
        await check_acts_on(session, principal, row)
        reach = await reports.measure_reach(
            session,
            audience=audience_of(row),
            channels=Content.model_validate(row.content).channels(),
        )
        check_four_eyes(
            author_key_id=row.author_key_id,
            approver=principal,
            subscribers=reach.subscribers,
            whole_city=_whole_city(row),
            threshold=four_eyes_threshold,
        )
        for approved in [row, *await companions(session, row.id)]:
            mark_approved(approved, by=principal)
        await access.audit(
            session,
            actor=principal,
            action="message.approved",
            message_id=row.id,
            target_size=reach.subscribers,
            detail={"address_points": reach.address_points, "author": row.author},
        )
    fan_out.wake()
    return await get_message(sessions=sessions, message_id=message_id)


async def companions(session: AsyncSession, message_id: UUID) -> list[MessageRow]:
    """Drafts that go out with this message: an update's word to those it no longer affects."""
    rows = await session.scalars(
        select(MessageRow)
        .where(MessageRow.unless_at == message_id, MessageRow.state == MessageState.DRAFT.value)
        .with_for_update()
    )
    return list(rows)


def mark_approved(row: MessageRow, *, by: Principal, note: str = "") -> None:
    row.state = MessageState.APPROVED.value
    row.approved_at = datetime.now(UTC)
    row.approved_by = by.name + note
    row.approved_by_key_id = by.key_id


def _whole_city(row: MessageRow) -> bool:
    return row.target is not None and Target.model_validate(row.target).is_whole_city()


async def cancel_message(
    *,
    sessions: async_sessionmaker[AsyncSession],
    publish_cancellation: PublishCancellation,
    principal: Principal,
    message_id: UUID,
) -> MessageRead:
    """Stop a message: no further fan-out, held deliveries dropped, dispatchers told to send nothing more."""
    require(principal, Role.APPROVER)
    async with sessions() as session, session.begin():
        await visible(session, principal, message_id)
        row = await message_for_update(session, message_id)
        await check_acts_on(session, principal, row)
        await stop(session, row, actor=principal, publish_cancellation=publish_cancellation)
    return await get_message(sessions=sessions, message_id=message_id)


async def stop(
    session: AsyncSession, row: MessageRow, *, actor: Principal, publish_cancellation: PublishCancellation
) -> None:
    """Cancel a message and the drafts that would go out with it, in the caller's transaction."""
    if row.state == MessageState.CANCELLED:
        raise InvalidTransition("message is already cancelled")
    now = datetime.now(UTC)
    message_id = row.id
    was_approved = row.state != MessageState.DRAFT
    row.state = MessageState.CANCELLED.value
    row.cancelled_at = now
    for companion in await companions(session, message_id):
        companion.state, companion.cancelled_at = MessageState.CANCELLED.value, now
    held: Any = await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.message_id == message_id, DeliveryRow.held_request.is_not(None))
        .values(
            state=DeliveryState.CANCELLED.value,
            rank=rank(DeliveryState.CANCELLED, retryable=False),
            reason="message cancelled",
            held_request=None,
            updated_at=now,
        )
    )
    await access.audit(
        session,
        actor=actor,
        action="message.cancelled",
        message_id=message_id,
        detail={"held_deliveries_dropped": held.rowcount},
    )
    if was_approved:
        # told before the commit: if the broker is away the cancel fails and can be tried again
        await publish_cancellation(MessageCancelled(message_id=message_id, cancelled_at=now))


async def get_message(
    *, sessions: async_sessionmaker[AsyncSession], message_id: UUID, principal: Principal | None = None
) -> MessageRead:
    """The message with its deliveries counted, to a key that may see it."""
    async with sessions() as session:
        if principal is not None:
            require(principal, Role.UTILITY)
            row = await visible(session, principal, message_id)
        elif (found := await session.get(MessageRow, message_id)) is not None:
            row = found
        else:
            raise MessageNotFound(f"no message {message_id}")
        return await message_read(session, row)


async def apply_status(*, sessions: async_sessionmaker[AsyncSession], status: DeliveryStatusChanged) -> bool:
    """Record a dispatcher's status unless the delivery already got further. Returns whether it applied."""
    new_rank = rank(status.state, retryable=status.retryable)
    async with sessions() as session, session.begin():
        row = await session.get(DeliveryRow, status.delivery_id, with_for_update=True)
        if row is None or new_rank <= row.rank:
            return False
        row.state = status.state.value
        row.rank = new_rank
        row.reason = status.reason[:500] if status.reason else None
        row.updated_at = status.occurred_at
    return True


async def preview(
    *,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    request: PreviewRequest,
    unsubscribe_base_url: str | None,
    four_eyes_threshold: int,
    limiter: RateLimiter | None = None,
    per_minute: int = 30,
) -> PreviewRead:
    """What a target reaches, before anything is sent: counted within the key's scope, audited, and for a
    target narrowed by language, role or identity never a count below 5."""
    require(principal, Role.EDITOR)
    if request.category is not None:
        check_category(principal, request.category)
    if limiter is not None:
        limiter.take(
            key_id=f"preview:{principal.key_id}", name=principal.name, per_minute=per_minute,
            now=time.monotonic(),
        )  # fmt: skip
    channels = request.content.channels() if request.content else set(Channel)
    async with sessions() as session:
        resolution = uuid4()
        points = await resolve_target(session, target=request.target, into=resolution)
        if principal.scope.area is not None:
            await asyncio.to_thread(check_area, principal, points)
        reach = await reports.measure_reach(
            session,
            audience=Audience(
                resolution_id=resolution,
                filters=request.target.filters,
                category=request.category,
                severity=request.severity,
            ),
            channels=channels,
        )
        unknown = await _unknown_names(session, request.target)
        await session.rollback()
    async with sessions() as session, session.begin():
        await access.audit(
            session,
            actor=principal,
            action="target.previewed",
            target_size=reach.subscribers,
            detail={
                "target": _audited_target(request.target),
                "category": request.category,
                "address_points": reach.address_points,
            },
        )
    narrow = narrowed(request.target.filters)
    sms = (
        sms_lengths(
            request.content,
            severity=request.severity or Severity.INFO,
            gsm7=request.sms_transliterate,
            base_url=unsubscribe_base_url,
        )
        if request.content
        else {}
    )
    return PreviewRead(
        address_points=shown(reach.address_points, narrow=narrow),
        subscribers=shown(reach.subscribers, narrow=narrow),
        deliveries={
            channel.value: shown(count, narrow=narrow) for channel, count in sorted(reach.deliveries.items())
        },
        # of a narrowed target, every street it covers, whether or not someone there would be told
        streets=_streets(points) if narrow else reach.streets,
        sms={
            language.value: SmsLengthRead(
                characters=length.characters,
                encoding=length.encoding.value,
                segments=length.segments,
                per_segment=length.per_segment,
                non_gsm=list(length.non_gsm),
            )
            for language, length in sms.items()
        },
        unknown=unknown,
        four_eyes=needs_second_pair_of_eyes(
            subscribers=reach.subscribers,
            whole_city=request.target.is_whole_city(),
            threshold=four_eyes_threshold,
        ),
    )


def _streets(points: list[Any]) -> list[str]:
    return sorted({f"{p.street} ({p.district})" for p in points if p.street is not None})


def _audited_target(target: Target) -> dict[str, Any]:
    """The target as the audit log keeps it: whole, unless it is too large to keep (a long polygon)."""
    whole = target.model_dump(mode="json", exclude_defaults=True)
    text = json.dumps(whole, sort_keys=True)
    if len(text) <= 10_000:
        return whole
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "address_points": len(target.address_points),
        "streets": len(target.streets),
        "districts": len(target.districts),
        "polygons": len(target.polygons),
        "circles": len(target.circles),
    }


async def _unknown_names(session: AsyncSession, target: Target) -> list[str]:
    """Districts and streets of the target that no indexed address has: most often a typo."""
    districts = {d.casefold() for d in await session.scalars(select(IndexedPoint.district).distinct())}
    streets = {
        s.casefold() for s in await session.scalars(select(IndexedPoint.street).distinct()) if s is not None
    }
    selections = [target, *([target.exclude] if target.exclude else [])]
    unknown = [d for s in selections for d in s.districts if d.casefold() not in districts]
    unknown += [st.name for s in selections for st in s.streets if st.name.casefold() not in streets]
    unknown += [
        st.district
        for s in selections
        for st in s.streets
        if st.district and st.district.casefold() not in districts
    ]
    return unknown


async def list_messages(
    *,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    state: MessageState | None,
    limit: int,
) -> list[MessageRead]:
    """The newest messages the key may see first, optionally in one state: drafts are the approvers'
    queue (editor)."""
    require(principal, Role.EDITOR)
    query = select(MessageRow).order_by(MessageRow.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(MessageRow.state == state.value)
    if principal.scope.categories is not None:
        query = query.where(MessageRow.category.in_(sorted(principal.scope.categories)))
    async with sessions() as session:
        return [
            await message_read(session, row)
            for row in await session.scalars(query)
            if await may_see(session, principal, row)
        ]

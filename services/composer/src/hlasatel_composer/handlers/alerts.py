"""Alerts without a person in the loop: a utility's outage event and its update, cancel and all-clear.

An alert is a chain of messages. Its `current` message is the one whose recipients are affected now: the
alert, or its latest update. An update goes to the new area and, when the area changed, a released
message goes to the current recipients outside it; a cancel or an all-clear goes to exactly the current
recipients. Messages go out at once when the key's category is pre-approved, otherwise they wait in the
approvers' queue as drafts.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters import alerts as store
from hlasatel_composer.adapters import reports
from hlasatel_composer.adapters.orm import AlertRow, MessageRow
from hlasatel_composer.adapters.recipients import resolve_target
from hlasatel_composer.adapters.renderer import TemplateRenderer
from hlasatel_composer.adapters.uow import UnitOfWork, UnitOfWorkFactory, row_of
from hlasatel_composer.domain.access import (
    Principal,
    Role,
    check_area,
    check_category,
    check_emergency,
    needs_second_pair_of_eyes,
    require,
)
from hlasatel_composer.domain.alert import Alert, FollowUp, Made
from hlasatel_composer.domain.alerts import (
    AlertConflict,
    AlertEvent,
    AlertState,
    MsgType,
    event_of,
    outage_facts,
    places,
)
from hlasatel_composer.domain.message import Message, MessageNotFound
from hlasatel_composer.domain.messages import MessageState, Severity
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.domain.templates import AlertKind, Facts
from hlasatel_composer.handlers.messages import stop
from hlasatel_composer.handlers.planning import audience_of
from hlasatel_composer.schemas import AlertMessageRead, AlertRead
from hlasatel_contracts import Language

T = TypeVar("T")


Chained = Message


@dataclass(frozen=True)
class AlertDeps:
    uow: UnitOfWorkFactory
    renderer: TemplateRenderer
    four_eyes_threshold: int = 1000


def json_sender(principal: Principal) -> str:
    """Whom a utility's JSON event ids belong to: its key, by id (two keys of one name are two senders)."""
    return f"key {principal.key_id}"


async def receive_event(
    *, deps: AlertDeps, principal: Principal, event: AlertEvent
) -> tuple[AlertRead, bool]:
    """Take a utility's event; returns the alert and whether anything new was made of it."""
    require(principal, Role.UTILITY)
    check_category(principal, event.category)
    check_emergency(principal, event.severity.value)
    return await once_more_after_a_race(lambda: _receive_event(deps, principal, event))


async def once_more_after_a_race(attempt: Callable[[], Awaitable[T]]) -> T:
    """Two copies of one event at the same moment: the second to commit finds the alert's id taken, and its
    second attempt finds the first one's alert and answers as for a repeat."""
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()


async def _receive_event(deps: AlertDeps, principal: Principal, event: AlertEvent) -> tuple[AlertRead, bool]:
    async with deps.uow() as work:
        session = work.session
        alert = await store.find_alert(session, sender=json_sender(principal), refs=[event.event_id])
        if event.msg_type is MsgType.ALERT:
            if alert is not None:
                if alert.digest != event.digest():
                    raise AlertConflict(
                        f"alert {event.event_id} exists with other details: send it as msg_type 'update'"
                    )
                return await alert_read(session, alert), False
            alert = _new_alert(principal, event)
            session.add(alert)
            await store.remember_ref(
                session, sender=json_sender(principal), ref=event.event_id, alert_id=alert.id
            )
            drafted = [await _outage(work, deps, alert, principal, event, AlertKind.ALERT)]
        else:
            alert = _active(alert, event)
            if event.category != alert.category:
                raise AlertConflict(f"alert {event.event_id} is about {alert.category}, not {event.category}")
            drafted = await _follow_up(work, deps, alert, principal, event)
        await approve_if_pre_approved(work, deps, principal, alert.category, drafted)
        read = await alert_read(session, alert)
        await work.commit()
    return read, True


def _new_alert(principal: Principal, event: AlertEvent) -> AlertRow:
    now = datetime.now(UTC)
    return AlertRow(
        id=uuid4(),
        source="json",
        sender=principal.name,
        event_id=event.event_id,
        category=event.category,
        state=AlertState.ACTIVE.value,
        event=event.model_dump(mode="json"),
        digest=event.digest(),
        created_at=now,
        updated_at=now,
        owner_key_id=principal.key_id,
    )


def _active(alert: AlertRow | None, event: AlertEvent) -> AlertRow:
    if alert is None:
        raise AlertConflict(f"there is no alert {event.event_id} to {event.msg_type.value}")
    Alert(alert).check_active("follow")
    return alert


async def _follow_up(
    work: UnitOfWork, deps: AlertDeps, alert: AlertRow, principal: Principal, event: AlertEvent
) -> list[Chained]:
    previous = event_of(alert.event)
    told = _told(previous, principal)
    if event.msg_type is not MsgType.UPDATE:
        kind = AlertKind.CANCEL if event.msg_type is MsgType.CANCEL else AlertKind.ALL_CLEAR
        return await end(work, deps, alert, principal, kind=kind, told=told, severity=previous.severity)
    merged = event.merged_into(previous)
    check_emergency(principal, merged.severity.value)
    alert.event, alert.digest = merged.model_dump(mode="json"), merged.digest()
    return await update(
        work,
        deps,
        alert,
        principal,
        told=told,
        severity=previous.severity,
        same_area=merged.addresses == previous.addresses,
        fresh=lambda: _outage(work, deps, alert, principal, merged, AlertKind.ALERT),
        updated=lambda: _outage(work, deps, alert, principal, merged, AlertKind.UPDATE),
    )


async def update(
    work: UnitOfWork,
    deps: AlertDeps,
    alert: AlertRow,
    principal: Principal,
    *,
    told: dict[Language, Facts],
    severity: Severity,
    same_area: bool,
    fresh: Callable[[], Awaitable[Chained]],
    updated: Callable[[], Awaitable[Chained]],
) -> list[Chained]:
    """The alert as it is now (`domain.alert.Alert.update` decides what that takes)."""
    current = await current_message(work, alert)
    plan = Alert(alert).update(current, same_area=same_area, at=datetime.now(UTC))
    await _apply(work, current, plan, principal)
    made: list[Chained] = []
    for what in plan.make:
        if what is Made.FRESH:
            made.append(await fresh())
        elif what is Made.UPDATE:
            made.append(await updated())
        else:
            released = await to_current(
                work, deps, alert, principal, AlertKind.RELEASED, told, severity=severity, current=current
            )
            released.record.unless_at = made[0].id
            made.append(released)
    return made


async def end(
    work: UnitOfWork,
    deps: AlertDeps,
    alert: AlertRow,
    principal: Principal,
    *,
    kind: AlertKind,
    told: dict[Language, Facts],
    severity: Severity,
) -> list[Chained]:
    """Cancel or all-clear (`domain.alert.Alert.end` decides what that takes)."""
    current = await current_message(work, alert)
    plan = Alert(alert).end(current, cancel=kind is AlertKind.CANCEL, at=datetime.now(UTC))
    await _apply(work, current, plan, principal)
    return [
        await to_current(work, deps, alert, principal, kind, told, severity=severity, current=current)
        for _ in plan.make
    ]


async def _apply(work: UnitOfWork, current: Chained, plan: FollowUp, principal: Principal) -> None:
    if plan.withdraw_current or plan.stop_current:
        await stop(work, current, actor=principal)


async def current_message(work: UnitOfWork, alert: AlertRow) -> Chained:
    assert alert.current is not None
    message = await work.messages.get(alert.current)
    if message is None:
        raise MessageNotFound(f"the current message of alert {alert.event_id} is gone")
    return message


async def _outage(
    work: UnitOfWork,
    deps: AlertDeps,
    alert: AlertRow,
    principal: Principal,
    event: AlertEvent,
    kind: AlertKind,
) -> Chained:
    """An alert or an update: to the event's addresses, within the key's area."""
    assert event.addresses is not None
    message_id = uuid4()
    target = event.addresses.target()
    points = await resolve_target(work.session, target=target, into=message_id)
    await asyncio.to_thread(check_area, principal, points)
    facts = outage_facts(
        event, sender=principal.name, where=places(event.addresses, store.street_names(points))
    )
    made = await message(
        work,
        deps,
        alert,
        principal,
        kind,
        facts,
        severity=event.severity,
        message_id=message_id,
        target=target,
        # an outage message not delivered before the outage ends is of no use to anyone
        expires_at=event.end,
    )
    Alert(alert).now_told_by(made.id)
    return made


async def to_current(
    work: UnitOfWork,
    deps: AlertDeps,
    alert: AlertRow,
    principal: Principal,
    kind: AlertKind,
    facts: dict[Language, Facts],
    *,
    severity: Severity,
    current: Chained,
) -> Chained:
    """A released, cancel or all-clear message: to whoever the current message reached."""
    return await message(
        work, deps, alert, principal, kind, facts, severity=severity, message_id=uuid4(), target=None,
        follows=current.id,
    )  # fmt: skip


def _told(event: AlertEvent, principal: Principal) -> dict[Language, Facts]:
    """What the recipients of the current message were told, for those that follow it."""
    assert event.addresses is not None
    return outage_facts(event, sender=principal.name, where=places(event.addresses, []))


async def message(
    work: UnitOfWork,
    deps: AlertDeps,
    alert: AlertRow,
    principal: Principal,
    kind: AlertKind,
    facts: dict[Language, Facts],
    *,
    severity: Severity,
    message_id: UUID,
    target: Target | None,
    expires_at: datetime | None = None,
    cap: dict[str, Any] | None = None,
    follows: UUID | None = None,
) -> Chained:
    """A message of the alert's chain, rendered by the city's templates, as a draft."""
    chosen = await store.templates(work.session)
    content = await deps.renderer.render_content(
        {language: texts[kind] for language, texts in chosen.items()}, facts, kind=kind
    )
    made = work.messages.add(
        id=message_id,
        severity=severity.value,
        category=alert.category,
        content=content.model_dump(mode="json", exclude_none=True),
        target=target.model_dump(mode="json", exclude_defaults=True) if target else None,
        follows=follows,
        sms_transliterate=False,
        author=principal.name,
        author_key_id=principal.key_id,
        created_at=datetime.now(UTC),
        expires_at=expires_at,
        alert_id=alert.id,
        kind=kind.value,
        public=True,
        cap=cap,
    )
    await work.audit(
        actor=principal,
        action=f"alert.{kind.value}",
        message_id=made.id,
        detail={"alert": str(alert.id), "event_id": alert.event_id},
    )
    return made


async def approve_if_pre_approved(
    work: UnitOfWork, deps: AlertDeps, principal: Principal, category: str, drafted: list[Chained]
) -> bool:
    """Send at once what the city has pre-approved for this key; returns whether anything was approved.

    Not when any of them reaches more subscribers than four eyes' threshold, or the whole city, unless the
    key may do so: those wait for an approver, like any large message. The city's pre-approval is the
    second pair of eyes for the rest."""
    if category not in principal.scope.pre_approved or not drafted:
        return False
    await work.session.flush()
    for made in drafted:
        reach = await reports.measure_reach(
            work.session, audience=audience_of(row_of(made)), channels=made.content.channels()
        )
        large = needs_second_pair_of_eyes(
            subscribers=reach.subscribers,
            whole_city=made.reaches_whole_city(),
            threshold=deps.four_eyes_threshold,
        )
        if large and not principal.scope.whole_city:
            await work.audit(
                actor=principal,
                action="alert.awaiting_approval",
                message_id=made.id,
                target_size=reach.subscribers,
                detail={"reason": "reaches more than four eyes' threshold without an approver"},
            )
            return False
    now = datetime.now(UTC)
    for made in drafted:
        made.approve(
            by=principal, at=now, subscribers=0, four_eyes_threshold=deps.four_eyes_threshold,
            note=" (pre-approved)", companion=made.record.unless_at is not None, pre_approved=True,
        )  # fmt: skip
        await work.audit(
            actor=principal, action="message.approved", message_id=made.id, detail={"pre_approved": True}
        )
    return True


async def alert_read(session: AsyncSession, alert: AlertRow) -> AlertRead:
    await session.flush()
    rows = (
        await session.execute(
            select(MessageRow.id, MessageRow.kind, MessageRow.state)
            .where(MessageRow.alert_id == alert.id)
            .order_by(MessageRow.created_at)
        )
    ).all()
    messages = [AlertMessageRead(id=row.id, kind=row.kind, state=MessageState(row.state)) for row in rows]
    return AlertRead(
        id=alert.id,
        source="cap" if alert.source == "cap" else "json",
        sender=alert.sender,
        event_id=alert.event_id,
        category=alert.category,
        state=AlertState(alert.state),
        current=alert.current,
        awaiting_approval=any(m.state == MessageState.DRAFT for m in messages),
        messages=messages,
        created_at=alert.created_at,
        updated_at=alert.updated_at,
    )


async def get_alert(*, uow: UnitOfWorkFactory, principal: Principal, event_id: str) -> AlertRead:
    """An alert by the event id its sender gave it."""
    require(principal, Role.UTILITY)
    async with uow() as work:
        alert = await store.find_alert(work.session, sender=json_sender(principal), refs=[event_id])
        if alert is None:
            raise MessageNotFound(f"'{principal.name}' has sent no alert {event_id}")
        return await alert_read(work.session, alert)

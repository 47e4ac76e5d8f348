"""What every alert shares, whether it came as JSON or as CAP: its chain of messages (the alert, its
update and the word to those it no longer concerns, its cancel or all-clear), each rendered by the city's
templates as a draft; sending at once what the city pre-approved for the key; and what the answer says
of whom a message reaches.

An alert's `current` message is the one whose recipients are affected now: the alert, or its latest
update. An update goes to the new area and, when the area changed, a released message goes to the current
recipients outside it; a cancel or an all-clear goes to exactly the current recipients.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters import alerts as store
from hlasatel_composer.adapters import reports
from hlasatel_composer.adapters.orm import AlertRow, MessageRow, TargetPoint
from hlasatel_composer.adapters.renderer import TemplateRenderer
from hlasatel_composer.adapters.uow import UnitOfWork, UnitOfWorkFactory, row_of
from hlasatel_composer.domain.access import (
    Principal,
    needs_second_pair_of_eyes,
)
from hlasatel_composer.domain.alert import Alert, FollowUp, Made
from hlasatel_composer.domain.alerts import (
    AlertState,
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


async def once_more_after_a_race(attempt: Callable[[], Awaitable[T]]) -> T:
    """Two copies of one event at the same moment: the second to commit finds the alert's id taken, and its
    second attempt finds the first one's alert and answers as for a repeat."""
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()


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
    onset: datetime | None = None,
    area: dict[str, Any] | None = None,
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
        onset=onset,
        area=area,
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


async def reach_said(work: UnitOfWork, made: Chained) -> str:
    """Whom a warning reaches, said in the answer: an area where nobody has subscribed yet still has its
    warning published."""
    row = row_of(made)
    reach = await reports.measure_reach(
        work.session, audience=audience_of(row), channels=made.content.channels()
    )
    points = await work.session.scalar(select(func.count()).where(TargetPoint.resolution_id == row.id))
    published = (
        "it is in the city's CAP and Atom feeds"
        if row.state != MessageState.DRAFT.value
        else "it goes to the city's CAP and Atom feeds once approved"
    )
    if reach.subscribers == 0:
        return f"nobody has subscribed at the {points} address points of its area yet: {published}"
    return (
        f"it reaches {reach.subscribers} subscribers at {reach.households} of the {points} address "
        f"points of its area, and {published}"
    )


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

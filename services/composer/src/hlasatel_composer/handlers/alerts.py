"""Alerts without a person in the loop: a utility's outage event (JSON) and its update, cancel and
all-clear, to the houses it names. Messages go out at once when the key's category is pre-approved,
otherwise they wait in the approvers' queue as drafts; the chain they make is `alert_chain`'s."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import select

from hlasatel_composer.adapters import alerts as store
from hlasatel_composer.adapters.orm import AlertRow, MessageRow
from hlasatel_composer.adapters.uow import UnitOfWork, UnitOfWorkFactory, row_of
from hlasatel_composer.domain.access import (
    Principal,
    Role,
    check_area,
    check_category,
    check_emergency,
    require,
)
from hlasatel_composer.domain.alert import Alert
from hlasatel_composer.domain.alerts import (
    AlertConflict,
    AlertEvent,
    AlertState,
    MsgType,
    NotInTheCity,
    event_of,
    not_in_the_city,
    outage_facts,
    places,
)
from hlasatel_composer.domain.message import MessageNotFound
from hlasatel_composer.domain.register import street_names
from hlasatel_composer.domain.templates import AlertKind, Facts
from hlasatel_composer.handlers.alert_chain import (
    AlertDeps,
    Chained,
    alert_read,
    approve_if_pre_approved,
    current_message,
    end,
    message,
    once_more_after_a_race,
    reach_said,
    update,
)
from hlasatel_composer.handlers.common import resolve_message
from hlasatel_composer.handlers.scope import may_see, points_of
from hlasatel_composer.schemas import AlertRead
from hlasatel_contracts import Language

__all__ = ["AlertDeps", "get_alert", "json_sender", "receive_event"]


# the messages that go to an alert's area, rather than to whoever an earlier message reached
_TO_AN_AREA = (AlertKind.ALERT.value, AlertKind.UPDATE.value)


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
        told = [await reach_said(work, made) for made in drafted if row_of(made).kind in _TO_AN_AREA]
        await work.commit()
    return read.model_copy(update={"reach": "; ".join(told) or None}), True


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
    told = await _told(work, alert, previous, principal)
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
    resolved, area = await resolve_message(work.session, target=target, message_id=message_id)
    if not resolved.codes:
        raise NotInTheCity(not_in_the_city(resolved.register.unknown(target)))
    check_area(principal, resolved)
    facts = outage_facts(
        event, sender=principal.name, where=places(event.addresses, street_names(resolved.points()))
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
        onset=event.start,
        area=area,
    )
    Alert(alert).now_told_by(made.id)
    return made


async def _told(
    work: UnitOfWork, alert: AlertRow, event: AlertEvent, principal: Principal
) -> dict[Language, Facts]:
    """What the recipients of the current message were told, for the messages that follow it: the places
    as that message named them, from the address points it was for."""
    assert event.addresses is not None
    current = await current_message(work, alert)
    resolved = await points_of(work.session, row_of(current))
    return outage_facts(
        event, sender=principal.name, where=places(event.addresses, street_names(resolved.points()))
    )


async def get_alert(*, uow: UnitOfWorkFactory, principal: Principal, event_id: str) -> AlertRead:
    """An alert by the event id its sender gave it."""
    require(principal, Role.UTILITY)
    async with uow() as work:
        alert = await store.find_alert(work.session, sender=json_sender(principal), refs=[event_id])
        if alert is None:
            raise MessageNotFound(f"'{principal.name}' has sent no alert {event_id}")
        return await alert_read(work.session, alert)


async def list_alerts(
    *, uow: UnitOfWorkFactory, principal: Principal, state: AlertState | None, waiting: bool, limit: int
) -> list[AlertRead]:
    """The newest alerts first: a utility's own; for the press office those of its categories whose
    current message it may see; `waiting` keeps those with a message in the approvers' queue."""
    require(principal, Role.UTILITY)
    query = select(AlertRow).order_by(AlertRow.updated_at.desc())
    if state is not None:
        query = query.where(AlertRow.state == state.value)
    if principal.role is Role.UTILITY:
        query = query.where(AlertRow.owner_key_id == principal.key_id)
    elif principal.scope.categories is not None:
        query = query.where(AlertRow.category.in_(sorted(principal.scope.categories)))
    found: list[AlertRead] = []
    async with uow() as work:
        for alert in await work.session.scalars(query):
            if len(found) >= limit:
                break
            current = await work.session.get(MessageRow, alert.current) if alert.current else None
            hidden = principal.role is not Role.UTILITY and current is not None
            if hidden and current is not None and not await may_see(work.session, principal, current):
                continue
            read = await alert_read(work.session, alert)
            if not waiting or read.awaiting_approval:
                found.append(read)
    return found

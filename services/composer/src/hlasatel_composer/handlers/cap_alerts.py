"""CAP 1.2 alerts from warning services: an Alert or an Update of an unknown alert starts one; an Update
of a known alert updates it (or, with no warning left for Liberec, gives the all-clear); a Cancel cancels
it. An issue of a feed whose warnings have not changed tells nobody anything again."""

import dataclasses
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters import alerts as store
from hlasatel_composer.adapters.orm import AlertRow
from hlasatel_composer.adapters.recipients import selected_points
from hlasatel_composer.adapters.uow import UnitOfWork, row_of
from hlasatel_composer.domain.access import (
    OutOfScope,
    Principal,
    Role,
    check_area,
    check_category,
    require,
)
from hlasatel_composer.domain.alert import Alert
from hlasatel_composer.domain.alerts import AlertState
from hlasatel_composer.domain.cap import MAX_CAP_BYTES, CapAlert, parse_cap
from hlasatel_composer.domain.cap_alerts import (
    LIBEREC_GEOCODES,
    Plan,
    facts_from_json,
    facts_json,
    language_of,
    plan,
)
from hlasatel_composer.domain.messages import Severity
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
from hlasatel_composer.schemas import CapInfoRead, CapReceived
from hlasatel_contracts import Language


async def receive_cap(
    *,
    deps: AlertDeps,
    principal: Principal,
    data: bytes,
    geocodes: frozenset[tuple[str, str]] = LIBEREC_GEOCODES,
    max_bytes: int = MAX_CAP_BYTES,
) -> tuple[CapReceived, bool]:
    """Take a CAP document; returns what was made of it and whether a message was drafted or sent."""
    require(principal, Role.UTILITY)
    cap = parse_cap(data, max_bytes=max_bytes)
    return await once_more_after_a_race(lambda: _receive(deps, principal, cap))


async def _receive(deps: AlertDeps, principal: Principal, cap: CapAlert) -> tuple[CapReceived, bool]:
    async with deps.uow() as work:
        session = work.session
        await store.speaks_for(session, principal, sender=cap.sender)
        known = await store.find_alert(session, sender=cap.sender, refs=[cap.identifier])
        if known is not None:
            return _received(
                cap, "received before: nothing more is sent", await alert_read(session, known)
            ), False
        alert, drafted, outcome = await _apply(work, deps, principal, cap)
        if alert is None:
            return _received(cap, outcome, None), False
        await store.remember_ref(session, sender=cap.sender, ref=cap.identifier, alert_id=alert.id)
        await approve_if_pre_approved(work, deps, principal, alert.category, drafted)
        outcome += "".join(
            [f"; {await reach_said(work, made)}" for made in drafted if row_of(made).kind == "warning"]
        )
        read = await alert_read(session, alert)
        await work.commit()
    return _received(cap, outcome, read), bool(drafted)


async def _apply(
    work: UnitOfWork, deps: AlertDeps, principal: Principal, cap: CapAlert
) -> tuple[AlertRow | None, list[Chained], str]:
    referenced = await _referenced(work.session, principal, cap)
    if cap.msg_type == "Cancel":
        if referenced is None:
            # most often an alert that was never for Liberec: a feed is told so, not refused
            return None, [], "the Cancel references no alert the city has received: nothing to cancel"
        return referenced, await _end(work, deps, principal, referenced, AlertKind.CANCEL), "cancelled"
    decided = plan(cap, now=datetime.now(UTC), own_categories=principal.scope.categories)
    outcome = "accepted" if referenced is None else "updated"
    if not isinstance(decided, str):
        check_category(principal, decided.category)
        if decided.severity is Severity.EMERGENCY and not principal.scope.emergency:
            # the warning still reaches everyone it concerns, on the lane of warnings
            decided = dataclasses.replace(decided, severity=Severity.WARNING)
            outcome += " as a warning: the key may not send emergencies"
    if referenced is None:
        if isinstance(decided, str):
            return None, [], decided
        return await _start(work, deps, principal, cap, decided, outcome)
    if isinstance(decided, str):
        # an update that leaves no warning for the city ends the alert
        return referenced, await _end(work, deps, principal, referenced, AlertKind.ALL_CLEAR), decided
    if decided.digest() == referenced.digest:
        return referenced, [], "the warnings are unchanged: nothing is sent again"
    return referenced, await _update(work, deps, principal, referenced, cap, decided), outcome


async def _referenced(session: AsyncSession, principal: Principal, cap: CapAlert) -> AlertRow | None:
    """The newest alert of the city that the CAP message's references name; only the key that started an
    alert may follow it up, whatever <sender> a document names."""
    for reference in reversed(cap.references):
        found = await store.find_alert(session, sender=reference.sender, refs=[reference.identifier])
        if found is None:
            continue
        if found.owner_key_id != principal.key_id:
            raise OutOfScope(
                f"'{principal.name}' may not follow up {reference.sender},{reference.identifier}: "
                "another key sent that alert"
            )
        if found.state == AlertState.ACTIVE:
            return found
    return None


async def _start(
    work: UnitOfWork, deps: AlertDeps, principal: Principal, cap: CapAlert, decided: Plan, outcome: str
) -> tuple[AlertRow | None, list[Chained], str]:
    if not (await selected_points(work.session, decided.target)).codes:
        return None, [], "not for Liberec: no address point of the city lies in its area"
    now = datetime.now(UTC)
    alert = AlertRow(
        id=uuid4(),
        source="cap",
        sender=cap.sender,
        event_id=cap.identifier,
        category=decided.category,
        state=AlertState.ACTIVE.value,
        event={"facts": facts_json(decided.facts), "severity": decided.severity.value},
        digest=decided.digest(),
        created_at=now,
        updated_at=now,
        owner_key_id=principal.key_id,
    )
    work.session.add(alert)
    return alert, [await _warning(work, deps, principal, alert, cap, decided)], outcome


async def _warning(
    work: UnitOfWork,
    deps: AlertDeps,
    principal: Principal,
    alert: AlertRow,
    cap: CapAlert,
    decided: Plan,
) -> Chained:
    message_id = uuid4()
    resolved, area = await resolve_message(work.session, target=decided.target, message_id=message_id)
    check_area(principal, resolved)
    made = await message(
        work,
        deps,
        alert,
        principal,
        AlertKind.WARNING,
        decided.facts,
        severity=decided.severity,
        message_id=message_id,
        target=decided.target,
        expires_at=decided.expires_at,
        cap=_cap_meta(cap, decided),
        onset=decided.onset,
        area=area,
    )
    Alert(alert).now_told_by(made.id)
    return made


async def _update(
    work: UnitOfWork,
    deps: AlertDeps,
    principal: Principal,
    alert: AlertRow,
    cap: CapAlert,
    decided: Plan,
) -> list[Chained]:
    current = await current_message(work, alert)
    told, severity = _told(alert)
    alert.event = {"facts": facts_json(decided.facts), "severity": decided.severity.value}
    alert.digest = decided.digest()
    return await update(
        work,
        deps,
        alert,
        principal,
        told=told,
        severity=severity,
        same_area=current.target == decided.target,
        fresh=lambda: _warning(work, deps, principal, alert, cap, decided),
        updated=lambda: _warning(work, deps, principal, alert, cap, decided),
    )


async def _end(
    work: UnitOfWork, deps: AlertDeps, principal: Principal, alert: AlertRow, kind: AlertKind
) -> list[Chained]:
    told, severity = _told(alert)
    return await end(work, deps, alert, principal, kind=kind, told=told, severity=severity)


def _told(alert: AlertRow) -> tuple[dict[Language, Facts], Severity]:
    """What the current message's recipients were told, for those that follow it."""
    return facts_from_json(alert.event["facts"]), Severity(alert.event["severity"])


def _cap_meta(cap: CapAlert, decided: Plan) -> dict[str, Any]:
    """CAP's own terms of the warning, for the city's CAP export."""
    first = decided.infos[0]
    return {
        "identifier": cap.identifier,
        "sender": cap.sender,
        "urgency": first.urgency,
        "severity": first.severity,
        "certainty": first.certainty,
        "categories": list(first.categories),
        # the warnings' own events, per language, for the city's CAP export
        "events": _events(decided),
    }


def _events(decided: Plan) -> dict[str, str]:
    """Each language's events of the warning, as the warning names them."""
    events: dict[str, list[str]] = {}
    for info in decided.infos:
        if (language := language_of(info.language)) is not None:
            events.setdefault(language.value, []).append(info.event)
    return {language: ", ".join(dict.fromkeys(names)) for language, names in events.items()}


def _received(cap: CapAlert, outcome: str, alert: Any) -> CapReceived:
    return CapReceived(
        identifier=cap.identifier,
        sender=cap.sender,
        sent=cap.sent,
        status=cap.status,
        msg_type=cap.msg_type,
        references=[f"{r.sender},{r.identifier}" for r in cap.references],
        infos=[
            CapInfoRead(
                language=info.language,
                event=info.event,
                categories=list(info.categories),
                urgency=info.urgency,
                severity=info.severity,
                certainty=info.certainty,
                onset=info.onset,
                expires=info.expires,
                areas=[area.description for area in info.areas],
                polygons=sum(len(area.polygons) for area in info.areas),
                circles=sum(len(area.circles) for area in info.areas),
                geocodes=sum(len(area.geocodes) for area in info.areas),
            )
            for info in cap.infos
        ],
        outcome=outcome,
        alert=alert,
    )

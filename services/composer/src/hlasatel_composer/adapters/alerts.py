"""Alerts, the ids they are known by, their templates and idempotent requests in the composer's database."""

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import AlertRef, AlertRow, AlertTemplateRow, CapSenderRow
from hlasatel_composer.domain.access import OutOfScope, Principal
from hlasatel_composer.domain.template_defaults import DEFAULTS
from hlasatel_composer.domain.templates import AlertKind, TemplateText
from hlasatel_contracts import Language

Templates = dict[Language, dict[AlertKind, TemplateText]]


async def templates(session: AsyncSession) -> Templates:
    """The shipped defaults with the admins' versions in their place."""
    chosen = {language: dict(kinds) for language, kinds in DEFAULTS.items()}
    for row in await session.scalars(select(AlertTemplateRow)):
        chosen[Language(row.language)][AlertKind(row.kind)] = TemplateText(
            sms=row.sms, subject=row.subject, text=row.text
        )
    return chosen


async def customised(session: AsyncSession) -> dict[tuple[str, str], AlertTemplateRow]:
    return {(row.language, row.kind): row for row in await session.scalars(select(AlertTemplateRow))}


async def save_template(
    session: AsyncSession, *, language: Language, kind: AlertKind, text: TemplateText, by: str
) -> None:
    row = await session.get(AlertTemplateRow, (language.value, kind.value), with_for_update=True)
    if row is None:
        row = AlertTemplateRow(language=language.value, kind=kind.value)
        session.add(row)
    row.sms, row.subject, row.text = text.sms, text.subject, text.text
    row.updated_at, row.updated_by = datetime.now(UTC), by


async def reset_template(session: AsyncSession, *, language: Language, kind: AlertKind) -> None:
    await session.execute(
        delete(AlertTemplateRow).where(
            AlertTemplateRow.language == language.value, AlertTemplateRow.kind == kind.value
        )
    )


async def find_alert(session: AsyncSession, *, sender: str, refs: Iterable[str]) -> AlertRow | None:
    """The alert a sender knows by any of these ids, locked for the follow-up."""
    alert_id = await session.scalar(
        select(AlertRef.alert_id).where(AlertRef.sender == sender, AlertRef.ref.in_(list(refs))).limit(1)
    )
    return None if alert_id is None else await session.get(AlertRow, alert_id, with_for_update=True)


async def remember_ref(session: AsyncSession, *, sender: str, ref: str, alert_id: UUID) -> None:
    """A new id for an alert. Never checked first: if another transaction took it meanwhile, the commit
    fails on the key, rather than two alerts sharing one id."""
    session.add(AlertRef(sender=sender, ref=ref, alert_id=alert_id))


async def speaks_for(session: AsyncSession, principal: Principal, *, sender: str) -> None:
    """A CAP <sender> belongs to the first key that sends as it (or to the key an admin named it for):
    another key's document under that sender is refused, so that nobody can update or cancel a warning
    service's alert by writing its name into a document."""
    allowed = principal.scope.cap_senders
    if allowed is not None and sender not in allowed:
        raise OutOfScope(f"'{principal.name}' may send CAP as {', '.join(sorted(allowed))}; not as {sender}")
    bound = await session.get(CapSenderRow, sender)
    if bound is None:
        session.add(CapSenderRow(sender=sender, key_id=principal.key_id, bound_at=datetime.now(UTC)))
        await session.flush()
    elif bound.key_id != principal.key_id:
        raise OutOfScope(f"the CAP sender {sender} belongs to another key")

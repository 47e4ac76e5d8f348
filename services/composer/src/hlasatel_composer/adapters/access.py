"""API keys and the audit log in the composer's database."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import ApiKeyRow, AuditRow
from hlasatel_composer.domain.access import Principal, Role, Scope, key_hash, new_key
from hlasatel_composer.domain.targeting import Selection


async def create_key(
    session: AsyncSession, *, name: str, role: Role, created_by: str, scope: Scope | None = None
) -> tuple[ApiKeyRow, str]:
    """A new key; the key itself is returned once and only its hash is kept."""
    key = new_key()
    row = ApiKeyRow(
        id=uuid4(),
        name=name,
        role=role.value,
        key_hash=key_hash(key),
        prefix=key[:8],
        created_at=datetime.now(UTC),
        created_by=created_by,
    )
    if scope is not None:
        row.categories = sorted(scope.categories) if scope.categories is not None else None
        row.area = scope.area.model_dump(mode="json", exclude_defaults=True) if scope.area else None
        row.pre_approved = sorted(scope.pre_approved)
        row.rate_limit_per_minute = scope.rate_limit_per_minute
        row.emergency, row.whole_city = scope.emergency, scope.whole_city
        row.cap_senders = sorted(scope.cap_senders) if scope.cap_senders is not None else None
    session.add(row)
    await session.flush()
    return row, key


async def principal_for(session: AsyncSession, key: str) -> Principal | None:
    row = await session.scalar(
        select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash(key), ApiKeyRow.revoked_at.is_(None))
    )
    return (
        None
        if row is None
        else Principal(key_id=str(row.id), name=row.name, role=Role(row.role), scope=scope_of(row))
    )


def scope_of(row: ApiKeyRow) -> Scope:
    return Scope(
        categories=frozenset(row.categories) if row.categories is not None else None,
        area=Selection.model_validate(row.area) if row.area else None,
        pre_approved=frozenset(row.pre_approved or ()),
        rate_limit_per_minute=row.rate_limit_per_minute,
        emergency=bool(row.emergency),
        whole_city=bool(row.whole_city),
        cap_senders=frozenset(row.cap_senders) if row.cap_senders is not None else None,
    )


async def audit(
    session: AsyncSession,
    *,
    actor: Principal,
    action: str,
    message_id: UUID | None = None,
    target_size: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One line of the audit log, in the transaction of the action it records."""
    session.add(
        AuditRow(
            at=datetime.now(UTC),
            actor=actor.name,
            actor_key_id=actor.key_id,
            role=actor.role.value,
            action=action,
            message_id=message_id,
            target_size=target_size,
            detail=detail,
        )
    )

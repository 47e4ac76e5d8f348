"""API keys and the audit log: the admin's use cases."""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access
from hlasatel_composer.adapters.orm import ApiKeyRow, AuditRow
from hlasatel_composer.domain.access import Principal, Role, Scope, require
from hlasatel_composer.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, AuditRead
from hlasatel_runtime.errors import SafeError


class KeyNotFound(SafeError):
    """No API key has that id."""


def _read(row: ApiKeyRow) -> ApiKeyRead:
    return ApiKeyRead(
        categories=row.categories,
        area=row.area,  # type: ignore[arg-type]
        pre_approved=row.pre_approved or [],
        rate_limit_per_minute=row.rate_limit_per_minute,
        emergency=bool(row.emergency),
        whole_city=bool(row.whole_city),
        cap_senders=row.cap_senders,
        id=row.id,
        name=row.name,
        role=Role(row.role),
        prefix=row.prefix,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
    )


async def create_key(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, data: ApiKeyCreate
) -> ApiKeyCreated:
    """A new key for a person or a system; the key is shown in this answer only."""
    require(principal, Role.ADMIN)
    async with sessions() as session, session.begin():
        row, key = await access.create_key(
            session, name=data.name, role=data.role, created_by=principal.name, scope=data.scope()
        )
        await access.audit(
            session, actor=principal, action="key.created", detail={"key": str(row.id), "role": row.role}
        )
        return ApiKeyCreated(**_read(row).model_dump(), key=key)


async def list_keys(*, sessions: async_sessionmaker[AsyncSession], principal: Principal) -> list[ApiKeyRead]:
    require(principal, Role.ADMIN)
    async with sessions() as session:
        return [_read(row) for row in await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]


async def revoke_key(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, key_id: UUID
) -> ApiKeyRead:
    """The key stops working at once; its row stays for the audit log."""
    require(principal, Role.ADMIN)
    async with sessions() as session, session.begin():
        row = await session.get(ApiKeyRow, key_id, with_for_update=True)
        if row is None:
            raise KeyNotFound(f"no API key {key_id}")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            await access.audit(session, actor=principal, action="key.revoked", detail={"key": str(key_id)})
        return _read(row)


@dataclass(frozen=True)
class AuditFilter:
    """Which entries of the audit log: of a message, by someone whose name contains `actor`, of actions
    starting with `action`, between two times."""

    message_id: UUID | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.message_id is not None:
            found.append(AuditRow.message_id == self.message_id)
        if self.actor:
            found.append(func.lower(AuditRow.actor).contains(self.actor.lower(), autoescape=True))
        if self.action:
            found.append(AuditRow.action.startswith(self.action, autoescape=True))
        if self.since is not None:
            found.append(AuditRow.at >= self.since)
        if self.until is not None:
            found.append(AuditRow.at < self.until)
        return found


async def audit_log(
    *,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    found: AuditFilter | None = None,
    limit: int = 100,
) -> list[AuditRead]:
    """The newest entries first, optionally only those the filter finds."""
    require(principal, Role.ADMIN)
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    for condition in (found or AuditFilter()).conditions():
        query = query.where(condition)
    async with sessions() as session:
        return [
            AuditRead(
                at=row.at,
                actor=row.actor,
                actor_key_id=row.actor_key_id,
                role=row.role,
                action=row.action,
                message_id=row.message_id,
                target_size=row.target_size,
                detail=row.detail,
            )
            for row in await session.scalars(query)
        ]


async def bootstrap_key(session: AsyncSession, *, name: str, role: Role, scope: Scope | None = None) -> str:
    """A key made from the command line, where there is no admin yet to make it."""
    system = Principal(key_id="-", name="command line", role=Role.ADMIN)
    row, key = await access.create_key(session, name=name, role=role, created_by=system.name, scope=scope)
    await access.audit(
        session, actor=system, action="key.created", detail={"key": str(row.id), "role": row.role}
    )
    return key

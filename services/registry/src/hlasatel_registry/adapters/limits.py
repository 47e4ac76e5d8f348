"""Sliding-window limits kept in the database, so that every registry instance counts the same."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_registry.adapters.orm import RateEventRow
from hlasatel_registry.domain.codes import keyed_hash
from hlasatel_runtime.errors import SafeError


class RateLimited(SafeError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what}; try again in {retry_after} s")
        self.retry_after = retry_after


async def ensure_below(
    session: AsyncSession, *, secret: str, scope: str, key: str, limit: int, window: timedelta, what: str
) -> None:
    """Raise RateLimited when ``limit`` attempts were counted within ``window``."""
    key_hash = keyed_hash(secret, scope, key)
    if session.get_bind().dialect.name == "postgresql":
        # one counter at a time per key, or two registries could both let the fifth request through
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key_hash})
    now = datetime.now(UTC)
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(RateEventRow.at)).where(
                RateEventRow.scope == scope,
                RateEventRow.key_hash == key_hash,
                RateEventRow.at > now - window,
            )
        )
    ).one()
    if count >= limit:
        raise RateLimited(what, max(1, int(((oldest or now) + window - now).total_seconds()) + 1))


def record_attempt(session: AsyncSession, *, secret: str, scope: str, key: str) -> None:
    session.add(RateEventRow(scope=scope, key_hash=keyed_hash(secret, scope, key), at=datetime.now(UTC)))


async def count_attempt(
    session: AsyncSession, *, secret: str, scope: str, key: str, limit: int, window: timedelta, what: str
) -> None:
    """Count one attempt, or raise RateLimited without counting it when the window is full."""
    await ensure_below(session, secret=secret, scope=scope, key=key, limit=limit, window=window, what=what)
    record_attempt(session, secret=secret, scope=scope, key=key)


async def forget_old_attempts(session: AsyncSession, *, older_than: timedelta) -> None:
    await session.execute(delete(RateEventRow).where(RateEventRow.at < datetime.now(UTC) - older_than))

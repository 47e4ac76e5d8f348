"""Idempotency-Key: a request repeated with the same key gets the first one's answer, and does nothing more.

The key is claimed before the request runs, so that two copies arriving together cannot both run; a
claim whose request failed is given up, so that the retry runs. Behind this, an alert is also idempotent
by its event id or CAP identifier, which covers a crash between the work and the stored answer.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import IdempotentRequest
from hlasatel_runtime.errors import SafeError

# a claim older than this belongs to a request that died with its process
ABANDONED_AFTER = timedelta(minutes=2)


class IdempotencyKeyReused(SafeError):
    """The key came with a different request."""


class IdempotentRequestInProgress(SafeError):
    """The first request with this key has not finished yet."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool


async def idempotent(
    *,
    sessions: async_sessionmaker[AsyncSession],
    key_id: str,
    idempotency_key: str | None,
    fingerprint: str,
    run: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
) -> Answer:
    """Run the request once per key; a repeat with the same fingerprint gets the stored answer."""
    if idempotency_key is None:
        status_code, body = await run()
        return Answer(status_code, body, replayed=False)
    stored = await _claim(sessions, key_id, idempotency_key, fingerprint)
    if stored is not None:
        return stored
    try:
        status_code, body = await run()
    except BaseException:
        async with sessions() as session, session.begin():
            await session.execute(
                delete(IdempotentRequest).where(
                    IdempotentRequest.key_id == key_id, IdempotentRequest.idempotency_key == idempotency_key
                )
            )
        raise
    async with sessions() as session, session.begin():
        row = await session.get(IdempotentRequest, (key_id, idempotency_key), with_for_update=True)
        if row is not None:
            row.status_code, row.response = status_code, body
    return Answer(status_code, body, replayed=False)


async def _claim(
    sessions: async_sessionmaker[AsyncSession], key_id: str, idempotency_key: str, fingerprint: str
) -> Answer | None:
    """Claim the key, or return the answer it already has."""
    now = datetime.now(UTC)
    try:
        async with sessions() as session, session.begin():
            session.add(
                IdempotentRequest(
                    key_id=key_id, idempotency_key=idempotency_key, fingerprint=fingerprint, created_at=now
                )
            )
        return None
    except IntegrityError:
        pass
    async with sessions() as session, session.begin():
        row = await session.get(IdempotentRequest, (key_id, idempotency_key), with_for_update=True)
        if row is None:  # given up meanwhile by a failed first request
            return await _claim(sessions, key_id, idempotency_key, fingerprint)
        if row.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key '{idempotency_key}' was used for a different request; use a new key"
            )
        if row.status_code is None or row.response is None:
            if now - row.created_at < ABANDONED_AFTER:
                raise IdempotentRequestInProgress(
                    f"a request with Idempotency-Key '{idempotency_key}' is still running; try again shortly"
                )
            row.created_at = now
            return None
        return Answer(row.status_code, row.response, replayed=True)

"""A worker's claims stay fresh for as long as it works on them, however long its provider calls take.

Without it, a claim older than the stale time was taken to be a dead worker's, and a live call slower
than that (500 notifications to FCM on a loaded machine took over 20 s) was taken over and sent twice.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_dispatch import ledger

log = logging.getLogger(__name__)

# renewals within one stale time: a few may fail (a busy database) before a live claim looks dead
RENEWALS_PER_STALE_TIME = 4


@asynccontextmanager
async def held(
    sessions: async_sessionmaker[AsyncSession],
    delivery_ids: Sequence[str],
    *,
    claimed_at: datetime,
    stale_after_s: float,
) -> AsyncIterator[None]:
    """Renew the claims made at `claimed_at` until the block is left (the outcomes are recorded in it)."""
    done = asyncio.Event()
    renewing = asyncio.create_task(_renew(sessions, delivery_ids, claimed_at, stale_after_s, done))
    try:
        yield
    finally:
        # stopped between renewals, never cancelled inside one of its transactions
        done.set()
        await renewing


async def _renew(
    sessions: async_sessionmaker[AsyncSession],
    delivery_ids: Sequence[str],
    claimed_at: datetime,
    stale_after_s: float,
    done: asyncio.Event,
) -> None:
    every_s = stale_after_s / RENEWALS_PER_STALE_TIME
    while True:
        try:
            await asyncio.wait_for(done.wait(), timeout=every_s)
            return
        except TimeoutError:
            pass
        try:
            async with sessions() as session, session.begin():
                claimed_at = await ledger.renew(
                    session, delivery_ids, claimed_at=claimed_at, stale_after_s=stale_after_s
                )
        except SQLAlchemyError as exc:  # the next renewal tries again; the claims are still young
            log.warning("could not renew %d claims: %s", len(delivery_ids), type(exc).__name__)

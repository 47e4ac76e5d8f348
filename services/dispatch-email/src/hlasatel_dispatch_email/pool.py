"""Reused SMTP connections: a relay is asked for a new connection only when every open one is busy."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiosmtplib


class SmtpPool:
    """At most `size` connections; one that failed is closed and replaced, never handed out again."""

    def __init__(self, *, size: int, connect: Callable[[], Awaitable[aiosmtplib.SMTP]]) -> None:
        if size < 1:
            raise ValueError("an SMTP pool needs at least one connection")
        self._connect = connect
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(size)
        self.opened = 0  # connections made over the pool's life, for the metrics and the tests

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[tuple[aiosmtplib.SMTP, bool]]:
        """A connected client, and whether it was used before (a reused one may have been dropped by the
        relay in the meantime). On an exception the client is closed, not returned."""
        async with self._slots:
            reused = bool(self._idle)
            client = self._idle.pop() if reused else await self._open()
            try:
                yield client, reused
            except BaseException:
                await _close(client)
                raise
            self._idle.append(client)

    async def _open(self) -> aiosmtplib.SMTP:
        client = await self._connect()
        self.opened += 1
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()

"""The search index over the gazetteer, rebuilt when a new import has been committed."""

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import BuildingKind
from hlasatel_registry.adapters.orm import AddressPointRow, GazetteerImportRow
from hlasatel_registry.domain.search import AddressIndex, Entry, fold


class AddressSearch:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._index: AddressIndex | None = None
        self._built_for: int | None = -1
        self._lock = asyncio.Lock()

    async def index(self) -> AddressIndex:
        """The current index; one cheap query tells whether an import happened since it was built."""
        async with self._sessions() as session:
            latest = await session.scalar(select(func.max(GazetteerImportRow.id)))
        if self._index is not None and latest == self._built_for:
            return self._index
        async with self._lock:
            if self._index is None or latest != self._built_for:
                self._index = await self._build()
                self._built_for = latest
        return self._index

    async def _build(self) -> AddressIndex:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(
                        AddressPointRow.code,
                        AddressPointRow.street,
                        AddressPointRow.district,
                        AddressPointRow.building_kind,
                        AddressPointRow.building_number,
                        AddressPointRow.orientation_number,
                        AddressPointRow.orientation_letter,
                        AddressPointRow.municipality,
                    ).where(AddressPointRow.retired_at.is_(None))
                )
            ).all()
        entries = [
            Entry(
                r.code,
                r.street,
                r.district,
                BuildingKind(r.building_kind),
                r.building_number,
                r.orientation_number,
                r.orientation_letter,
            )
            for r in rows
        ]
        municipalities = frozenset(fold(r.municipality) for r in rows) or frozenset({"liberec"})
        return await asyncio.to_thread(AddressIndex, entries, municipalities)

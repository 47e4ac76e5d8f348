"""Use cases of the address gazetteer: importing the city's register and announcing it on the bus,
searching it, listing its districts and streets."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import ADDRESS_POINTS, AddressPoint, AddressPointChanged
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.gazetteer_store import ImportCounts, every_point, import_records
from hlasatel_registry.adapters.orm import AddressPointRow, SubscriberAddressRow, SubscriberRow
from hlasatel_registry.domain.gazetteer import AddressRecord
from hlasatel_registry.handlers.common import address_read, announce
from hlasatel_registry.schemas import AddressRead, AddressSearchRead, DistrictRead, StreetRead
from hlasatel_runtime.errors import SafeError
from hlasatel_runtime.secrets import KeyRing


async def get_address(*, sessions: async_sessionmaker[AsyncSession], code: int) -> AddressRead | None:
    async with sessions() as session:
        row = await session.get(AddressPointRow, code)
    if row is None or row.retired_at is not None:
        return None
    return address_read(row)


async def list_districts(*, sessions: async_sessionmaker[AsyncSession]) -> list[DistrictRead]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(AddressPointRow.district_code, AddressPointRow.district, func.count())
                .where(AddressPointRow.retired_at.is_(None))
                .group_by(AddressPointRow.district_code, AddressPointRow.district)
                .order_by(AddressPointRow.district_code)
            )
        ).all()
    return [DistrictRead(code=code, name=name, address_points=count) for code, name, count in rows]


async def _addresses(sessions: async_sessionmaker[AsyncSession], codes: list[int]) -> list[AddressRead]:
    async with sessions() as session:
        rows = {
            r.code: r
            for r in await session.scalars(select(AddressPointRow).where(AddressPointRow.code.in_(codes)))
        }
    return [address_read(rows[code]) for code in codes if code in rows]


class NoAddressMatches(SafeError):
    """Nothing in the gazetteer matches what was typed."""

    def __init__(self, suggestions: list[AddressRead]) -> None:
        super().__init__("no address matches; the nearest are suggested")
        self.suggestions = suggestions


async def search_addresses(
    *, sessions: async_sessionmaker[AsyncSession], search: AddressSearch, text: str, limit: int
) -> AddressSearchRead:
    """Address points matching what a person typed, best first."""
    index = await search.index()
    matches = index.search(text, limit=limit)
    if not matches:
        raise NoAddressMatches(await _addresses(sessions, [e.code for e in index.suggest(text)]))
    return AddressSearchRead(query=text, results=await _addresses(sessions, [m.entry.code for m in matches]))


async def list_streets(*, sessions: async_sessionmaker[AsyncSession], district_code: int) -> list[StreetRead]:
    """The streets of one district (část obce); a street crossing districts is listed in each."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    AddressPointRow.street_code,
                    AddressPointRow.street,
                    AddressPointRow.district_code,
                    AddressPointRow.district,
                    func.count(),
                )
                .where(
                    AddressPointRow.district_code == district_code,
                    AddressPointRow.street_code.is_not(None),
                    AddressPointRow.retired_at.is_(None),
                )
                .group_by(
                    AddressPointRow.street_code,
                    AddressPointRow.street,
                    AddressPointRow.district_code,
                    AddressPointRow.district,
                )
                .order_by(AddressPointRow.street)
            )
        ).all()
    return [
        StreetRead(code=code, name=name, district_code=dcode, district=district, address_points=count)
        for code, name, dcode, district, count in rows
        if code is not None and name is not None
    ]


def register_event(state: Mapping[str, Any], at: datetime) -> AddressPointChanged:
    """An address point's state (the columns of `gazetteer_store.STATE`) as the register topic carries it."""
    return AddressPointChanged(
        version=state["version"],
        occurred_at=at,
        municipality_code=state["municipality_code"],
        municipality=state["municipality"],
        address=AddressPoint.model_validate(state),
        retired_at=state["retired_at"],
    )


def _announce_points(session: AsyncSession, states: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    for state in states:
        outbox.enqueue(
            session, topic=ADDRESS_POINTS, key=str(state["code"]), event=register_event(state, now)
        )


async def import_gazetteer(
    *, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], source: str, keys: KeyRing
) -> tuple[ImportCounts, int]:
    """Load an export: what it added, changed or retired goes on the register topic, and subscribers at
    changed or retired address points get their new state announced, in the import's transaction."""
    async with sessions() as session, session.begin():
        counts = await import_records(session, records, source=source)
        _announce_points(session, list(counts.changes))
        affected = (
            select(SubscriberAddressRow.subscriber_id)
            .where(SubscriberAddressRow.address_point_code.in_(counts.touched))
            .distinct()
        )
        subscribers = list(await session.scalars(select(SubscriberRow).where(SubscriberRow.id.in_(affected))))
        for subscriber in subscribers:
            await announce(session, subscriber, keys)
    return counts, len(subscribers)


async def announce_register(*, sessions: async_sessionmaker[AsyncSession]) -> int:
    """Put every address point of the register on its topic again, as it is now (for a topic that lost its
    log, or a consumer that starts from nothing where compaction has not kept it); returns how many."""
    async with sessions() as session, session.begin():
        states = await every_point(session)
        _announce_points(session, states)
    return len(states)

"""The city's address register in the composer: projected from the registry's register topic, replay-safe
by version, and read into memory (`domain.register.Register`) by each process when it has changed."""

import asyncio
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from prometheus_client import Gauge
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import DistrictOutline, IndexedPoint, RegisterState
from hlasatel_composer.domain.geometry import outline
from hlasatel_composer.domain.register import Register, register_of
from hlasatel_contracts import AddressPointChanged
from hlasatel_runtime.database import insert_ignoring_conflict, insert_rows

# what the register says of a point, besides its code
POINT_FIELDS = (
    "district_code",
    "district",
    "street",
    "building_kind",
    "building_number",
    "orientation_number",
    "orientation_letter",
    "postcode",
    "latitude",
    "longitude",
)

REGISTER_POINTS = Gauge(
    "hlasatel_composer_register_points",
    "Live address points of the city's register in the composer's database, as this process last saw them "
    "(applying the register topic, or reading the register into memory)",
)


async def changed_register(session: AsyncSession) -> None:
    """Every process reads the register again at its next use: its generation moves in this transaction."""
    now = datetime.now(UTC)
    moved: Any = await session.execute(
        update(RegisterState).where(RegisterState.id == 1).values(generation=RegisterState.generation + 1)
    )
    if moved.rowcount == 0:
        state = cast(Table, RegisterState.__table__)
        await insert_ignoring_conflict(session, state, [{"id": 1, "generation": 1, "changed_at": now}])


async def generation(session: AsyncSession) -> int:
    return await session.scalar(select(RegisterState.generation).where(RegisterState.id == 1)) or 0


def _newest(events: Sequence[AddressPointChanged]) -> dict[int, AddressPointChanged]:
    newest: dict[int, AddressPointChanged] = {}
    for event in events:
        known = newest.get(event.address.code)
        if known is None or event.version > known.version:
            newest[event.address.code] = event
    return newest


def _row(event: AddressPointChanged) -> dict[str, Any]:
    return {
        "code": event.address.code,
        "version": event.version,
        "retired": event.retired_at is not None,
        "municipality_code": event.municipality_code,
        **event.address.model_dump(include=set(POINT_FIELDS), mode="json"),
    }


async def apply_register_events(session: AsyncSession, events: Sequence[AddressPointChanged]) -> int:
    """Apply a batch of the register topic; an older or repeated version changes nothing, and a register
    record replaces what subscriber records said of the point. The outlines of the districts whose points
    changed are drawn again. Returns how many points changed."""
    newest = _newest(events)
    versions = dict(
        (
            await session.execute(
                select(IndexedPoint.code, IndexedPoint.version).where(IndexedPoint.code.in_(newest))
            )
        ).all()
    )
    changed = [event for code, event in newest.items() if versions.get(code, -1) < event.version]
    if not changed:
        return 0
    codes = [event.address.code for event in changed]
    districts = set(
        await session.scalars(select(IndexedPoint.district_code).where(IndexedPoint.code.in_(codes)))
    ) | {event.address.district_code for event in changed}
    await session.execute(delete(IndexedPoint).where(IndexedPoint.code.in_(codes)))
    await insert_rows(session, IndexedPoint, [_row(event) for event in changed])
    await _draw_outlines(session, districts)
    await changed_register(session)
    REGISTER_POINTS.set(await register_size(session))
    return len(changed)


async def _draw_outlines(session: AsyncSession, district_codes: set[int]) -> None:
    """The outline of each of these districts, from its live points now."""
    rows = (
        await session.execute(
            select(
                IndexedPoint.district_code,
                IndexedPoint.district,
                IndexedPoint.latitude,
                IndexedPoint.longitude,
            ).where(
                IndexedPoint.district_code.in_(district_codes),
                IndexedPoint.retired.is_(False),
                IndexedPoint.latitude.is_not(None),
            )
        )
    ).all()
    points: dict[int, tuple[str, list[tuple[float, float]]]] = {}
    for code, name, latitude, longitude in rows:
        if latitude is not None and longitude is not None:
            points.setdefault(code, (name, []))[1].append((latitude, longitude))
    await session.execute(delete(DistrictOutline).where(DistrictOutline.district_code.in_(district_codes)))
    now = datetime.now(UTC)
    shapes = await asyncio.to_thread(
        lambda: {code: outline(located) for code, (_, located) in points.items()}
    )
    await insert_rows(
        session,
        DistrictOutline,
        [
            {
                "district_code": code,
                "district": name,
                "address_points": len(located),
                "geometry": shapes[code],
                "computed_at": now,
            }
            for code, (name, located) in points.items()
        ],
    )


async def outlines(session: AsyncSession) -> list[DistrictOutline]:
    return list(await session.scalars(select(DistrictOutline).order_by(DistrictOutline.district)))


class _Cached:
    def __init__(self) -> None:
        self.register: Register | None = None
        self.lock = asyncio.Lock()


# one register per database engine in this process: each use asks the database for the generation (one
# small read), so that every replica serves an import as soon as its transaction has committed
_CACHE: "weakref.WeakKeyDictionary[Engine, _Cached]" = weakref.WeakKeyDictionary()


async def current_register(session: AsyncSession) -> Register:
    """The live address points of the register as this database has them now."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    cached = _CACHE.setdefault(engine, _Cached())
    now = await generation(session)
    if cached.register is not None and cached.register.generation == now:
        return cached.register
    async with cached.lock:
        if cached.register is None or cached.register.generation != now:
            rows = await _live_points(session)
            cached.register = await asyncio.to_thread(register_of, rows, generation=now)
            REGISTER_POINTS.set(len(cached.register))
    return cached.register


async def _live_points(session: AsyncSession, *, page: int = 2000) -> list[Any]:
    """Every live point, a page at a time by code, so that the event loop serves others between the pages
    (read at once, 16,140 rows held it 113 ms)."""
    columns = (IndexedPoint.code, *(getattr(IndexedPoint, name) for name in POINT_FIELDS))
    rows: list[Any] = []
    while True:
        after = rows[-1].code if rows else 0
        part = (
            await session.execute(
                select(*columns)
                .where(IndexedPoint.retired.is_(False), IndexedPoint.code > after)
                .order_by(IndexedPoint.code)
                .limit(page)
            )
        ).all()
        rows.extend(part)
        if len(part) < page:
            return rows


async def register_size(session: AsyncSession) -> int:
    """How many live address points the database's register has (for a check, not for targeting)."""
    return await session.scalar(select(func.count()).where(IndexedPoint.retired.is_(False))) or 0

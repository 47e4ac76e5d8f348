"""Loading a parsed RÚIAN export into the address_points table, idempotently, and reading the register's
points back as the register topic states them."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_registry.adapters.orm import AddressPointRow, GazetteerImportRow
from hlasatel_registry.domain.coordinates import to_wgs84
from hlasatel_registry.domain.gazetteer import AddressRecord

_COMPARED = (
    "municipality_code",
    "municipality",
    "district_code",
    "district",
    "street_code",
    "street",
    "building_kind",
    "building_number",
    "orientation_number",
    "orientation_letter",
    "postcode",
    "sjtsk_y",
    "sjtsk_x",
)
# a point's whole state, as the register topic carries it
STATE = ("code", *_COMPARED, "latitude", "longitude", "retired_at", "version")


@dataclass(frozen=True)
class ImportCounts:
    added: int
    updated: int
    retired: int
    unchanged: int
    # address points updated or retired: their subscribers' changelog states are out of date
    touched: frozenset[int] = frozenset()
    # every point the import added, changed or retired, in its new state (the columns of STATE)
    changes: tuple[dict[str, Any], ...] = ()

    def __str__(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, retired {self.retired}, unchanged {self.unchanged}"
        )


def _values(records: list[AddressRecord]) -> list[dict[str, Any]]:
    located = [r for r in records if r.sjtsk_y is not None and r.sjtsk_x is not None]
    wgs = dict(
        zip((r.code for r in located), to_wgs84([(r.sjtsk_y, r.sjtsk_x) for r in located]), strict=True)  # type: ignore[misc]
    )
    values = []
    for r in records:
        latitude, longitude = wgs.get(r.code, (None, None))
        values.append(
            {
                "code": r.code,
                **{name: getattr(r, name) for name in _COMPARED},
                "building_kind": r.building_kind.value,
                "latitude": latitude,
                "longitude": longitude,
                "retired_at": None,
            }
        )
    return values


async def import_records(
    session: AsyncSession, records: list[AddressRecord], *, source: str = ""
) -> ImportCounts:
    """Add new address points, update changed ones, retire those the export no longer has; each change
    gives the point a new version."""
    municipalities = {r.municipality_code for r in records}
    columns = [getattr(AddressPointRow, name) for name in STATE]
    existing = {
        row.code: row
        for row in (
            await session.execute(
                select(*columns).where(AddressPointRow.municipality_code.in_(municipalities))
            )
        ).all()
    }
    incoming = _values(records)
    added = [v | {"version": 1} for v in incoming if v["code"] not in existing]
    changed = [
        v | {"version": existing[v["code"]].version + 1}
        for v in incoming
        if v["code"] in existing
        and (
            existing[v["code"]].retired_at is not None
            or any(getattr(existing[v["code"]], name) != v[name] for name in _COMPARED)
        )
    ]
    seen = {v["code"] for v in incoming}
    now = datetime.now(UTC)
    retired = [
        row._asdict() | {"retired_at": now, "version": row.version + 1}
        for code, row in existing.items()
        if code not in seen and row.retired_at is None
    ]
    if added:
        await session.execute(insert(AddressPointRow), added)
    if changed:
        await session.execute(update(AddressPointRow), changed)
    if retired:
        await session.execute(
            update(AddressPointRow),
            [{"code": r["code"], "retired_at": now, "version": r["version"]} for r in retired],
        )
    counts = ImportCounts(
        added=len(added),
        updated=len(changed),
        retired=len(retired),
        unchanged=len(incoming) - len(added) - len(changed),
        touched=frozenset(v["code"] for v in changed) | frozenset(r["code"] for r in retired),
        changes=(*added, *changed, *retired),
    )
    session.add(
        GazetteerImportRow(
            imported_at=now,
            source=source[-300:],
            added=counts.added,
            updated=counts.updated,
            retired=counts.retired,
            unchanged=counts.unchanged,
        )
    )
    return counts


async def every_point(session: AsyncSession) -> list[dict[str, Any]]:
    """Every address point of the register, retired ones too, in its current state."""
    columns = [getattr(AddressPointRow, name) for name in STATE]
    rows = await session.execute(select(*columns).order_by(AddressPointRow.code))
    return [row._asdict() for row in rows]

"""``registry serve``, ``registry import-addresses FILE``, ``registry announce-address-points``,
``registry export-address-points FILE OUT`` and ``registry create-operator-key``."""

import argparse
import asyncio
import contextlib
import gzip
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import AddressPoint
from hlasatel_registry.adapters.gazetteer_store import ImportCounts
from hlasatel_registry.adapters.orm import Base
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.coordinates import address_points
from hlasatel_registry.domain.gazetteer import AddressRecord, GazetteerFormatError, read_file
from hlasatel_registry.handlers import operators
from hlasatel_registry.handlers.addresses import announce_register, import_gazetteer
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.logs import configure_logging
from hlasatel_runtime.service import SchemaOutdated, check_schema, serve


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the registry's database, its tables made as `serve` makes them, or refused as `serve`
    refuses them when an older version made them."""
    engine = build_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
            await connection.run_sync(check_schema, Base.metadata)
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def import_addresses(
    settings: Settings, path: Path, records: list[AddressRecord]
) -> tuple[ImportCounts, int]:
    """Load an RÚIAN address-point export into the gazetteer; the running registry relays what changed."""
    async with _database(settings) as sessions:
        return await import_gazetteer(
            sessions=sessions, records=records, source=str(path), keys=settings.keys()
        )


async def announce_addresses(settings: Settings) -> int:
    """The whole register on its topic again."""
    async with _database(settings) as sessions:
        return await announce_register(sessions=sessions)


def write_points(points: Iterable[AddressPoint], path: Path) -> int:
    """The points one JSON a line, gzipped reproducibly (no name or time in the header); returns how many."""
    count = 0
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        for point in points:
            out.write(point.model_dump_json().encode() + b"\n")
            count += 1
    return count


async def create_operator_key(settings: Settings, *, name: str) -> str:
    """A key for an operator at the city office; stored hashed, shown once."""
    async with _database(settings) as sessions, sessions() as session, session.begin():
        return await operators.create_operator_key(session, name=name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="registry", description="Hlasatel registry.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API and the changelog relay")
    importer = commands.add_parser("import-addresses", help="load an RÚIAN 'adresní místa' CSV export")
    importer.add_argument("file", type=Path)
    commands.add_parser(
        "announce-address-points",
        help="put every address point of the register on registry.address-points.v1 again (the running "
        "registry relays them): for a broker that lost its log, or a composer without the topic's history",
    )
    exporter = commands.add_parser(
        "export-address-points",
        help="write an RÚIAN export's address points as the registry publishes them (gzipped JSON lines), "
        "without touching the database: what an import would announce, and the tests' shared fixture",
    )
    exporter.add_argument("file", type=Path)
    exporter.add_argument("out", type=Path)
    operator = commands.add_parser(
        "create-operator-key", help="make a key for the city office's registry operators and print it"
    )
    operator.add_argument("--name", required=True, help="who holds it, e.g. 'Přepážka 3, Jana Nováková'")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging("registry", settings.log_level)
    if args.command == "serve":
        from hlasatel_registry.bootstrap import bootstrap

        serve(bootstrap(settings), settings)
        return
    try:
        _run_command(args, settings)
    except SchemaOutdated as exc:
        print(f"registry {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _run_command(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "create-operator-key":
        print(asyncio.run(create_operator_key(settings, name=args.name)))
        return
    if args.command == "announce-address-points":
        count = asyncio.run(announce_addresses(settings))
        print(f"{count} address points announced; the running registry relays them to the composer")
        return
    if args.command == "export-address-points":
        try:
            written = write_points(address_points(read_file(args.file)), args.out)
        except (OSError, GazetteerFormatError) as exc:
            print(f"registry export-address-points: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        print(f"{args.out}: {written} address points")
        return
    try:
        records = read_file(args.file)
        counts, announced = asyncio.run(import_addresses(settings, args.file, records))
    except (OSError, GazetteerFormatError) as exc:
        print(f"registry import-addresses: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    districts = len({r.district_code for r in records})
    streets = len({r.street_code for r in records if r.street_code})
    print(f"{args.file.name}: {len(records)} address points in {districts} districts and {streets} streets")
    print(f"{args.file.name}: {counts}")
    if counts.changes:
        print(f"{args.file.name}: {len(counts.changes)} address points announced to the composer")
    if announced:
        print(
            f"{args.file.name}: {announced} subscribers at changed address points, their new state announced"
        )

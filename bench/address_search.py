"""Address search latency on the real Liberec gazetteer: the in-memory index, and the handler on SQLite."""

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from hlasatel_registry import handlers
from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.gazetteer_store import import_records
from hlasatel_registry.adapters.orm import Base
from hlasatel_registry.domain.gazetteer import read_file
from hlasatel_runtime.database import build_engine, session_factory

QUERIES = [
    "Masarykova 12, Liberec",
    "masarykova 522/12",
    "Rumjancevova 21b",
    "vesec 244",
    "nám. Dr. E. Beneše 1",
    "Kubelíkova",
    "Masarykova 47",
    "Masarikova 12",
    "jablonecka 7/6",
    "28. října 37",
]


def percentile(samples: list[float], share: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * share))]


async def main(csv: Path, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(f"sqlite:///{tmp}/registry.db")
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        sessions = session_factory(engine)
        records = read_file(csv)
        async with sessions() as session, session.begin():
            await import_records(session, records)
        search = AddressSearch(sessions)
        started = time.perf_counter()
        index = await search.index()
        print(
            f"{len(records):,} address points; index built in {(time.perf_counter() - started) * 1000:.0f} ms"
        )
        for label, run in (
            ("index.search", lambda q: asyncio.sleep(0, index.search(q))),
            ("search handler (SQLite)", lambda q: _handler(sessions, search, q)),
        ):
            samples = []
            for _ in range(rounds):
                for query in QUERIES:
                    t = time.perf_counter()
                    await run(query)
                    samples.append((time.perf_counter() - t) * 1000)
            p50, p99 = statistics.median(samples), percentile(samples, 0.99)
            print(f"  {label:<26} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {max(samples):6.2f} ms", end="")
            print(f"   ({len(samples)} searches)")
        await engine.dispose()


async def _handler(sessions, search, query):  # type: ignore[no-untyped-def]
    with contextlib.suppress(handlers.NoAddressMatches):
        await handlers.search_addresses(sessions=sessions, search=search, text=query, limit=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--csv",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "data/ruian/20231231_OB_563889_ADR.csv",
    )
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.csv, args.rounds))

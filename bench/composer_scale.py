"""The composer at city scale: project the real Liberec register, index 100,000 subscribers over its
address points, preview targets (a street, a district, the whole city, a 10,000-vertex polygon), fan a
whole-city emergency out through the embedded broker, and compare with publishing alone. Prints the
figures and writes them as JSON (`--json`)."""

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import os
import platform
import random
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from hostile_targets import ring  # the script's own folder is on sys.path
from publish_rate import aiokafka_send_batch
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.index import apply_subscriber_events
from hlasatel_composer.adapters.orm import Base, DeliveryRow
from hlasatel_composer.adapters.publisher import DeliveryPublisher
from hlasatel_composer.adapters.register import apply_register_events
from hlasatel_composer.adapters.uow import UnitOfWork
from hlasatel_composer.domain.access import Principal, Role, Scope
from hlasatel_composer.handlers import messages, preview
from hlasatel_composer.handlers.fanout import FanOut
from hlasatel_composer.schemas import MessageCreate, PreviewRequest
from hlasatel_contracts import (
    AddressPoint,
    AddressPointChanged,
    DeliveryRequest,
    TopicSpec,
)
from hlasatel_devstack.broker import EmbeddedBroker
from hlasatel_devstack.chaos import EMERGENCY
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.ports import free_port
from hlasatel_devstack.testing import sessions_on
from hlasatel_registry.domain.coordinates import address_points
from hlasatel_registry.domain.gazetteer import read_file
from hlasatel_runtime.kafka import build_producer, ensure_topics
from hlasatel_runtime.settings import KafkaSettings

CSV = Path(__file__).resolve().parents[1] / "data/ruian/20231231_OB_563889_ADR.csv"
# the press office's keys, which may send emergencies
EDITOR = Principal(key_id="b", name="bench", role=Role.EDITOR, scope=Scope(emergency=True))
APPROVER = Principal(key_id="a", name="bench approver", role=Role.APPROVER, scope=Scope(emergency=True))
PREVIEWS = {
    "street Masarykova": {"streets": [{"name": "Masarykova"}]},
    "district Vratislavice": {"districts": ["Liberec XXX-Vratislavice nad Nisou"]},
    "whole city": {"city": True},
    "polygon of 10,000 vertices": {"polygons": [{"points": ring(10_000, 0.05)}]},
}


class Memory:
    """Peak RSS per phase and over the whole run: Linux starts the high-water mark afresh on request."""

    def __init__(self) -> None:
        self.overall_mb = 0.0

    def peak_mb(self) -> float:
        """The peak since the previous call (since the start on systems without /proc/self/clear_refs)."""
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.overall_mb = max(self.overall_mb, peak)
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
        return peak


@dataclass
class Figures:
    """What the run measured, as rows of the closing table, and as numbers for the JSON."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    memory: Memory = field(default_factory=Memory)
    numbers: dict[str, object] = field(default_factory=dict)

    def add(self, name: str, figure: str, **numbers: object) -> None:
        self.rows.append((name, figure))
        self.numbers[name] = numbers or figure
        print(f"  {name:<44} {figure}", flush=True)


async def load_register(
    sessions: async_sessionmaker[AsyncSession], points: list[AddressPoint], figures: Figures
) -> None:
    """The register topic's records of every point, 500 a transaction, as the composer's consumer applies
    them (each batch also draws its districts' outlines again)."""
    now = datetime.now(UTC)
    records = [
        AddressPointChanged(
            version=1, occurred_at=now, municipality_code=563889, municipality="Liberec", address=p
        )
        for p in points
    ]
    started = time.perf_counter()
    for start in range(0, len(records), 500):
        async with sessions() as session, session.begin():
            await apply_register_events(session, records[start : start + 500])
    elapsed = time.perf_counter() - started
    figures.add(
        "register (apply_register_events, 500 a txn)",
        f"{len(points) / elapsed:,.0f} points/s ({elapsed:.1f} s)",
        points_per_s=round(len(points) / elapsed),
        seconds=round(elapsed, 2),
    )


async def load(
    sessions: async_sessionmaker[AsyncSession], points: list[AddressPoint], count: int, figures: Figures
) -> None:
    """Apply the changelog in chunks of 500, each in its own transaction; only applying is timed."""
    events = subscribers(points, count, random.Random(563889))
    chunks: list[float] = []
    while chunk := list(itertools.islice(events, 500)):
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            await apply_subscriber_events(session, chunk)
        chunks.append(time.perf_counter() - started)
    tenth = max(1, len(chunks) // 10)
    first, last = tenth * 500 / sum(chunks[:tenth]), tenth * 500 / sum(chunks[-tenth:])
    figures.add(
        "load (apply_subscriber_events, 500 a txn)",
        f"{count / sum(chunks):,.0f} subscribers/s ({sum(chunks):.1f} s; "
        f"first tenth {first:,.0f}/s, last tenth {last:,.0f}/s)",
        subscribers_per_s=round(count / sum(chunks)),
        seconds=round(sum(chunks), 2),
    )


async def previews(sessions: async_sessionmaker[AsyncSession], figures: Figures, rounds: int) -> None:
    for name, target in PREVIEWS.items():
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            read = await preview.preview(
                sessions=sessions,
                principal=EDITOR,
                request=PreviewRequest.model_validate({"target": target}),
                unsubscribe_base_url=None,
                four_eyes_threshold=1000,
            )
            samples.append(time.perf_counter() - started)
        counts = (
            f"{read.address_points:,} points, {read.address_points_with_subscribers:,} with subscribers, "
            f"{read.subscribers:,} subscribers, "
            + ", ".join(f"{count:,} {channel}" for channel, count in read.deliveries.items())
        )
        figures.add(
            f"preview {name}",
            f"min {min(samples) * 1000:,.0f} ms, median {statistics.median(samples) * 1000:,.0f} ms"
            f" ({counts})",
            min_ms=round(min(samples) * 1000, 1),
            median_ms=round(statistics.median(samples) * 1000, 1),
            address_points=read.address_points,
            subscribers=read.subscribers,
        )


class FirstBatch:
    """The publisher, keeping the first batch it is given (to take a real request from)."""

    def __init__(self, publish: DeliveryPublisher) -> None:
        self.publish = publish
        self.first: Sequence[DeliveryRequest] = ()

    async def __call__(self, requests: Sequence[DeliveryRequest]) -> None:
        self.first = self.first or requests
        await self.publish(requests)


def typical(requests: Sequence[DeliveryRequest]) -> DeliveryRequest:
    """The request whose JSON is nearest the batch's mean size."""
    sizes = {id(r): len(r.model_dump_json()) for r in requests}
    mean = statistics.fmean(sizes.values())
    return min(requests, key=lambda r: abs(sizes[id(r)] - mean))


async def fan_out(sessions: async_sessionmaker[AsyncSession], publish: FirstBatch, figures: Figures) -> int:
    """Draft, approve and fan out the whole-city emergency; returns how many deliveries were published."""
    fanning = FanOut(sessions=sessions, publish=publish, batch_size=1000, contact_secret="bench")
    data = MessageCreate.model_validate(EMERGENCY)
    work = functools.partial(UnitOfWork, sessions)
    message_id = (await messages.create_message(uow=work, principal=EDITOR, data=data)).id
    started = time.perf_counter()
    await messages.approve_message(
        uow=work,
        principal=APPROVER,
        message_id=message_id,
        four_eyes_threshold=1000,
    )
    approved_ms = (time.perf_counter() - started) * 1000
    figures.add("approve whole city (resolve + reach)", f"{approved_ms:,.0f} ms", ms=round(approved_ms))
    figures.add("peak RSS loading, previewing, approving", f"{figures.memory.peak_mb():,.0f} MB")
    started = time.perf_counter()
    published = await fanning.fan_out(message_id)
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(DeliveryRow).where(DeliveryRow.message_id == message_id)
        )
    figures.add(
        "fan-out whole city",
        f"{published / elapsed:,.0f} deliveries/s ({published:,} published, {rows:,} rows, {elapsed:.1f} s)",
        deliveries_per_s=round(published / elapsed),
        deliveries=published,
    )
    figures.add("peak RSS during fan-out", f"{figures.memory.peak_mb():,.0f} MB")
    return published


async def publishing_alone(
    bootstrap: str, publisher: DeliveryPublisher, sample: DeliveryRequest, count: int, figures: Figures
) -> None:
    """The same number of records of the sample's size: through DeliveryPublisher, and raw aiokafka."""
    copies = [
        sample.model_copy(update={"subscriber_id": uuid.uuid4(), "delivery_id": uuid.uuid4()})
        for _ in range(count)
    ]
    started = time.perf_counter()
    for start in range(0, count, 1000):
        await publisher(copies[start : start + 1000])
    elapsed = time.perf_counter() - started
    figures.add(
        "DeliveryPublisher alone, batches of 1000", f"{count / elapsed:,.0f} records/s ({elapsed:.1f} s)"
    )
    topic = TopicSpec("bench.ceiling", partitions=4, compacted=False, description="raw aiokafka ceiling")
    await ensure_topics(KafkaSettings(bootstrap_servers=bootstrap), [topic])
    keyed = [(str(copy.subscriber_id).encode(), copy) for copy in copies]
    started = time.perf_counter()
    await aiokafka_send_batch(bootstrap, topic.name, keyed)
    elapsed = time.perf_counter() - started
    figures.add(
        "aiokafka send_batch (publish_rate's ceiling)", f"{count / elapsed:,.0f} records/s ({elapsed:.1f} s)"
    )
    figures.add("peak RSS publishing alone (copies held)", f"{figures.memory.peak_mb():,.0f} MB")


@contextlib.asynccontextmanager
async def fresh_database(url: str | None, tmp: Path) -> AsyncIterator[str]:
    """SQLite under `tmp`, or a database `bench_composer` made afresh on the server `url` names."""
    if url is None:
        yield f"sqlite:///{tmp / 'composer.db'}"
        return
    server = url.replace("postgresql+asyncpg://", "postgresql://")
    base, _, _ = server.rpartition("/")
    admin = await asyncpg.connect(server)
    try:
        await admin.execute('DROP DATABASE IF EXISTS "bench_composer" WITH (FORCE)')
        await admin.execute('CREATE DATABASE "bench_composer"')
        yield f"{base}/bench_composer"
    finally:
        await admin.execute('DROP DATABASE IF EXISTS "bench_composer" WITH (FORCE)')
        await admin.close()


async def run(args: argparse.Namespace, bootstrap: str, tmp: Path, figures: Figures) -> None:
    points = address_points(read_file(args.csv))  # as the changelog describes them
    async with fresh_database(args.database_url, tmp) as url, sessions_on(url, Base.metadata) as sessions:
        print(f"{args.subscribers:,} subscribers over {len(points):,} address points, {url.split(':')[0]}")
        print(f"on {platform.machine()} with {len(os.sched_getaffinity(0))} cores; broker on loopback")
        await load_register(sessions, points, figures)
        await load(sessions, points, args.subscribers, figures)
        await previews(sessions, figures, args.rounds)
        if args.previews_only:
            return
        publisher = DeliveryPublisher(
            lambda: build_producer(KafkaSettings(bootstrap_servers=bootstrap), client_id="bench")
        )
        try:
            first = FirstBatch(publisher)
            published = await fan_out(sessions, first, figures)
            sample = typical(first.first)
            size = len(sample.model_dump_json())
            print(f"  (publishing alone: one real {sample.channel} request, {size} bytes, copied)")
            await publishing_alone(bootstrap, publisher, sample, published, figures)
        finally:
            await publisher.close()


def main(args: argparse.Namespace) -> None:
    figures = Figures()
    with tempfile.TemporaryDirectory() as tmp:
        broker = EmbeddedBroker(port=free_port(), log_file=Path(tmp) / "broker.log")
        broker.start()  # every topic, with the partitions the services use
        try:
            asyncio.run(run(args, broker.bootstrap_servers, Path(tmp), figures))
        finally:
            broker.stop()
    figures.memory.peak_mb()
    figures.add("peak RSS of the whole run", f"{figures.memory.overall_mb:,.0f} MB")
    print()
    width = max(len(name) for name, _ in figures.rows)
    for name, figure in figures.rows:
        print(f"{name:<{width}}  {figure}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
                    f"Python {platform.python_version()}",
                    "database": "postgresql" if args.database_url else "sqlite",
                    "subscribers": args.subscribers,
                    "figures": figures.numbers,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--database-url", help="a PostgreSQL server (its database is left alone)")
    parser.add_argument("--rounds", type=int, default=3, help="times each preview is run")
    parser.add_argument("--csv", type=Path, default=CSV)
    parser.add_argument("--previews-only", action="store_true", help="stop after the previews")
    parser.add_argument("--json", help="write the figures here too, e.g. bench/results/composer_scale.json")
    main(parser.parse_args())

"""The whole system at city scale: N subscribers over the real Liberec address points, the broker, the
fakes and the services as processes, and either an emergency to the whole city ("citywide") or an
emergency to one street sent while a whole-city bulk newsletter is in flight ("preemption").

Prints, and writes to bench/results/<scenario>.json and .png: per stage the rate and the time from the
approval to each provider's acceptance (p50 / p95 / p99), the peak memory of each process, and beside them
the ceilings measured in the same run: raw aiokafka batch send and consume on the same broker, and each
fake driven directly by its client library.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from dispatch_rate import email_ceiling, push_ceiling, requests_for, sms_ceiling
from publish_rate import aiokafka_send_batch, payloads

from hlasatel_contracts import DELIVERY_STATUS, SUBSCRIBERS, Channel, DeliveryState, DeliveryStatusChanged
from hlasatel_devstack.bus import publish_keyed, reader
from hlasatel_devstack.chaos import EMERGENCY
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import PostgresDatabases, stack_config
from hlasatel_registry.domain.coordinates import address_points
from hlasatel_registry.domain.gazetteer import read_file

RESULTS = Path(__file__).with_name("results")
DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
GAZETTEER = Path(__file__).parents[1] / "data" / "ruian" / "20231231_OB_563889_ADR.csv"
SERVICES = ["composer", "dispatch-sms", "dispatch-email", "dispatch-push"]
NEWSLETTER = {
    "severity": "info",
    "category": "culture",
    "target": {"city": True},
    "content": {
        "cs": {
            "sms": "Liberec: v sobotu Den otevřených dveří radnice, 9-17 h.",
            "email": {"subject": "Den otevřených dveří", "text": "V sobotu 9-17 h je radnice otevřena všem."},
            "push": {"title": "Den otevřených dveří", "body": "V sobotu 9-17 h na radnici."},
        }
    },
}
STREET = "Masarykova"


class Acceptances:
    """Every acceptance on the status topic: per message and channel, when each delivery was accepted."""

    def __init__(self) -> None:
        self.at: dict[tuple[str, str], dict[str, datetime]] = defaultdict(dict)

    async def follow(self, bootstrap: str, stop: asyncio.Event) -> None:
        consumer = reader(bootstrap, DELIVERY_STATUS)
        await consumer.start()
        try:
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=200, max_records=10_000)).values():
                    for record in records:
                        status = DeliveryStatusChanged.model_validate_json(record.value or b"{}")
                        if status.state is DeliveryState.ACCEPTED:
                            key = (str(status.message_id), status.channel.value)
                            self.at[key].setdefault(str(status.delivery_id), status.occurred_at)
        finally:
            await consumer.stop()

    def count(self, message_id: str) -> int:
        return sum(len(self.at[(message_id, c.value)]) for c in Channel)

    def seconds_after(self, message_id: str, channel: Channel, start: datetime) -> list[float]:
        return sorted((at - start).total_seconds() for at in self.at[(message_id, channel.value)].values())


def quantiles(seconds: list[float]) -> dict[str, float]:
    if len(seconds) < 2:
        return {"p50": seconds[0], "p95": seconds[0], "p99": seconds[0]} if seconds else {}
    q = statistics.quantiles(seconds, n=100)
    return {"p50": round(q[49], 2), "p95": round(q[94], 2), "p99": round(q[98], 2)}


def peak_memory_mb(stack: Stack) -> dict[str, float]:
    """Each process's high-water resident memory (VmHWM), in MB."""
    pids = {name: process.pid for name, process in stack.processes.items()}
    if stack.broker._process is not None:
        pids["broker"] = stack.broker._process.pid
    peaks = {}
    for name, pid in pids.items():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[name] = round(int(line.split()[1]) / 1024, 1)
    return peaks


class City:
    """The composer's API as the press office uses it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.api = httpx.Client(base_url=stack.url("composer"), timeout=600)

    def _as(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stack.keys[role]}"}

    def preview(self, target: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        response = self.api.post("/v1/targets/preview", json={"target": target}, headers=self._as("editor"))
        response.raise_for_status()
        return response.json(), time.perf_counter() - started

    def send(self, body: dict[str, Any]) -> tuple[str, datetime, float]:
        """Write and approve a message; returns its id, when the approval was asked for, how long it took."""
        created = self.api.post("/v1/messages", json=body, headers=self._as("editor"))
        created.raise_for_status()
        message_id: str = created.json()["id"]
        approved_at, started = datetime.now(UTC), time.perf_counter()
        self.api.post(f"/v1/messages/{message_id}/approve", headers=self._as("approver")).raise_for_status()
        return message_id, approved_at, time.perf_counter() - started

    def message(self, message_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.get(f"/v1/messages/{message_id}", headers=self._as("editor")).json()
        return found


async def subscribe(stack: Stack, city: City, count: int, seed: int) -> dict[str, Any]:
    population = list(subscribers(address_points(read_file(GAZETTEER)), count, random.Random(seed)))
    started = time.perf_counter()
    await publish_keyed(
        stack.broker.bootstrap_servers,
        SUBSCRIBERS,
        ((str(s.subscriber_id).encode(), s) for s in population),
    )
    while (await asyncio.to_thread(city.preview, {"city": True}))[0]["subscribers"] < count:
        await asyncio.sleep(2)
    elapsed = time.perf_counter() - started
    print(f"  changelog → composer index: {count / elapsed:,.0f} subscribers/s ({elapsed:.0f} s)", flush=True)
    return {"subscribers": count, "rate_per_s": round(count / elapsed), "seconds": round(elapsed, 1)}


async def wait_for(acceptances: Acceptances, message_id: str, total: int, share: float) -> float:
    """Wait until `share` of a message's deliveries were accepted; returns when (perf_counter)."""
    while acceptances.count(message_id) < total * share:
        await asyncio.sleep(0.2)
    return time.perf_counter()


async def fan_out_seconds(city: City, message_id: str, started: float) -> float:
    while (await asyncio.to_thread(city.message, message_id))["state"] != "done":
        await asyncio.sleep(0.2)
    return time.perf_counter() - started


def delivery_figures(
    acceptances: Acceptances, message_id: str, approved_at: datetime, expected: dict[str, int]
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    everything: list[float] = []
    for channel in Channel:
        seconds = acceptances.seconds_after(message_id, channel, approved_at)
        everything += seconds
        last = seconds[-1] if seconds else 0.0
        figures[channel.value] = {
            "deliveries": len(seconds),
            "expected": expected.get(channel.value, 0),
            "rate_per_s": round(len(seconds) / last) if last else None,
            "last_s": round(last, 1),
            **quantiles(seconds),
        }
        rate = figures[channel.value]["rate_per_s"]
        print(
            f"  dispatch-{channel.value:<5} {len(seconds):>7,} accepted, {rate}/s from the approval; "
            f"approval → acceptance {quantiles(seconds)}",
            flush=True,
        )
    figures["end_to_end"] = {"deliveries": len(everything), "last_s": round(max(everything, default=0), 1)}
    figures["end_to_end"] |= quantiles(sorted(everything))
    return figures


async def citywide(stack: Stack, city: City, acceptances: Acceptances, result: dict[str, Any]) -> None:
    reach, _ = city.preview({"city": True})
    timings = sorted(city.preview({"city": True})[1] for _ in range(3))
    result["preview_city_s"] = {"min": round(timings[0], 2), "median": round(timings[1], 2)}
    expected = {channel: int(n) for channel, n in reach["deliveries"].items()}
    total = sum(expected.values())
    print(f"  preview whole city: {timings[1]:.2f} s median; {total:,} deliveries", flush=True)
    message_id, approved_at, approve_s = city.send(EMERGENCY)
    started = time.perf_counter() - approve_s
    fan_out = await fan_out_seconds(city, message_id, started)
    result["approve_s"] = round(approve_s, 2)
    result["fan_out"] = {"seconds": round(fan_out, 1), "rate_per_s": round(total / fan_out)}
    print(f"  approval {approve_s:.1f} s; fan-out {total / fan_out:,.0f} deliveries/s ({fan_out:.0f} s)")
    await wait_for(acceptances, message_id, total, 1.0)
    result["deliveries"] = delivery_figures(acceptances, message_id, approved_at, expected)
    result["curves"] = {c.value: acceptances.seconds_after(message_id, c, approved_at) for c in Channel}


async def preemption(stack: Stack, city: City, acceptances: Acceptances, result: dict[str, Any]) -> None:
    reach, _ = city.preview({"city": True})
    newsletter_total = sum(int(n) for n in reach["deliveries"].values())
    street, _ = city.preview({"streets": [{"name": STREET}]})
    expected = {channel: int(n) for channel, n in street["deliveries"].items()}
    newsletter_id, newsletter_at, _ = city.send(NEWSLETTER)
    await wait_for(acceptances, newsletter_id, newsletter_total, 0.1)
    before = acceptances.count(newsletter_id)
    emergency_id, approved_at, _ = city.send({**EMERGENCY, "target": {"streets": [{"name": STREET}]}})
    await wait_for(acceptances, emergency_id, sum(expected.values()), 1.0)
    after = acceptances.count(newsletter_id)
    result["newsletter"] = {
        "deliveries": newsletter_total,
        "accepted_when_the_emergency_was_approved": before,
        "accepted_when_the_emergency_had_reached_everyone": after,
    }
    result["emergency"] = delivery_figures(acceptances, emergency_id, approved_at, expected)
    print(f"  newsletter: {before:,} of {newsletter_total:,} accepted at the emergency's approval,")
    print(f"  {after:,} when the emergency to {STREET} had reached every provider", flush=True)
    # the newsletter's remainder only repeats its rate: stop it, and the run
    city.api.post(f"/v1/messages/{newsletter_id}/cancel", headers=city._as("approver")).raise_for_status()
    result["curves"] = {
        "newsletter": sorted(
            (at - newsletter_at).total_seconds()
            for c in Channel
            for at in acceptances.at[(newsletter_id, c.value)].values()
        ),
        "emergency": sorted(
            (at - newsletter_at).total_seconds()
            for c in Channel
            for at in acceptances.at[(emergency_id, c.value)].values()
        ),
    }


async def kafka_ceiling(bootstrap: str, count: int) -> dict[str, float]:
    """Raw aiokafka on the same broker: batches sent round-robin over 4 partitions, then read back."""
    records = payloads(count)
    started = time.perf_counter()
    await aiokafka_send_batch(bootstrap, "bench.ceiling", records)
    send = count / (time.perf_counter() - started)
    consumer = AIOKafkaConsumer(
        "bench.ceiling", bootstrap_servers=bootstrap, group_id="bench-ceiling", auto_offset_reset="earliest"
    )
    await consumer.start()
    read, started = 0, time.perf_counter()
    try:
        while read < count:
            read += sum(len(r) for r in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values())
    finally:
        await consumer.stop()
    consume = count / (time.perf_counter() - started)
    print(f"  raw aiokafka: send_batch {send:,.0f} records/s, consume {consume:,.0f} records/s", flush=True)
    return {"send_per_s": round(send), "consume_per_s": round(consume)}


async def ceilings(stack: Stack, var_dir: Path, records: int, per_fake: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"kafka": await kafka_ceiling(stack.broker.bootstrap_servers, records)}
    ports = stack.config.ports
    figures["sms_httpx"] = await sms_ceiling(ports, requests_for(Channel.SMS, per_fake))
    figures["email_aiosmtplib"] = await email_ceiling(ports, requests_for(Channel.EMAIL, per_fake))
    figures["push_firebase_admin"] = await push_ceiling(ports, var_dir, requests_for(Channel.PUSH, per_fake))
    return figures


def plot(scenario: str, result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for name, seconds in result["curves"].items():
        axes.plot(seconds, range(1, len(seconds) + 1), label=name)
    since = "the approval" if scenario == "citywide" else "the newsletter's approval"
    axes.set_xlabel(f"seconds since {since}")
    axes.set_ylabel("deliveries accepted by the providers")
    axes.set_title(f"Hlasatel {scenario}, {result['subscribers']['subscribers']:,} subscribers")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


async def run(args: argparse.Namespace, stack: Stack, var_dir: Path, database: str) -> dict[str, Any]:
    city = City(stack)
    acceptances, stop = Acceptances(), asyncio.Event()
    follower = asyncio.create_task(acceptances.follow(stack.broker.bootstrap_servers, stop))
    result: dict[str, Any] = {
        "scenario": args.scenario,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}",
        "database": database,
        "subscribers": await subscribe(stack, city, args.subscribers, args.seed),
    }
    try:
        await (citywide if args.scenario == "citywide" else preemption)(stack, city, acceptances, result)
    finally:
        stop.set()
        await follower
    result["peak_memory_mb"] = peak_memory_mb(stack)
    print(f"  peak memory (VmHWM, MB): {result['peak_memory_mb']}", flush=True)
    if args.scenario == "citywide":  # after a pre-emption run the newsletter's last calls are still going
        result["ceilings"] = await ceilings(stack, var_dir, args.ceiling_records, args.ceiling_per_fake)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--scenario", choices=["citywide", "preemption"], default="citywide")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ceiling-records", type=int, default=100_000, help="raw aiokafka records")
    parser.add_argument("--ceiling-per-fake", type=int, default=3_000, help="client-library calls per fake")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql://user@host:port/db): each service gets a fresh database\n"
        "there, dropped at the end; SQLite files in a temporary directory without it",
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url  # the server PostgresDatabases creates them on
    databases = PostgresDatabases()
    backend = "postgresql" if args.database_url else "sqlite"
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        # no rate limit and no SMS delivery reports: what the system itself does up to the acceptance
        environment = {f"DISPATCH_{c.value.upper()}_RATE_PER_S": "1000000" for c in Channel}
        stack = Stack(stack_config(var_dir, backend, databases, environment))
        print(
            f"{args.scenario}: {args.subscribers:,} subscribers on {DATABASE_NAMES[backend]}; "
            "broker, fakes and services as processes"
        )
        try:
            stack.start(services=SERVICES)
            no_reports = {"report": "none"}
            httpx.post(f"{stack.url('sms_gateway')}/_fake/behaviour", json=no_reports).raise_for_status()
            result = asyncio.run(run(args, stack, var_dir, DATABASE_NAMES[backend]))
        finally:
            stack.stop()
            databases.drop_all()
    RESULTS.mkdir(exist_ok=True)
    name = args.scenario if backend == "sqlite" else f"{args.scenario}-{backend}"
    plot(args.scenario, result, RESULTS / f"{name}.png")
    result.pop("curves")
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written: {RESULTS / name}.json and .png")


if __name__ == "__main__":
    main()

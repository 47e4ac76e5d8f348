"""The largest targets the composer accepts, against every Liberec address point: how long a preview of
each takes, and how long the event loop went without running anything else meanwhile (a ticker every
10 ms records its longest gap) — the time the composer served no HTTP, ran no fan-out and sent no Kafka
heartbeat.

    .venv/bin/python bench/hostile_targets.py [--json bench/results/hostile_targets.json]

The script uses only what the composer's API offered before the hardening too, so the same file measures
an older checkout (run it with that checkout's interpreter and PYTHONPATH) for a before-and-after.
"""

import argparse
import asyncio
import itertools
import json
import math
import platform
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hlasatel_composer.adapters.index import apply_subscriber_events
from hlasatel_composer.adapters.orm import Base
from hlasatel_composer.adapters.register import current_register
from hlasatel_composer.domain.access import Principal, Role
from hlasatel_composer.handlers import preview
from hlasatel_composer.schemas import PreviewRequest
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.testing import sessions_on
from hlasatel_registry.domain.coordinates import address_points
from hlasatel_registry.domain.gazetteer import read_file

CSV = Path(__file__).resolve().parents[1] / "data/ruian/20231231_OB_563889_ADR.csv"
EDITOR = Principal(key_id="bench", name="bench", role=Role.EDITOR)
CENTRE = (50.7671, 15.0562)  # náměstí Dr. E. Beneše


def ring(vertices: int, radius_deg: float) -> list[list[float]]:
    """A star-shaped ring around the centre: many vertices, most of the city inside."""
    return [
        [
            CENTRE[0] + radius_deg * (1 + 0.1 * (i % 2)) * math.sin(2 * math.pi * i / vertices) * 0.66,
            CENTRE[1] + radius_deg * (1 + 0.1 * (i % 2)) * math.cos(2 * math.pi * i / vertices),
        ]
        for i in range(vertices)
    ]


async def ticking(gaps: list[float], stop: asyncio.Event) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last - 0.01)
        last = now


async def timed(sessions: Any, call: Callable[[Any], Awaitable[Any]]) -> tuple[float, float, Any]:
    """How long the call took, and the longest the event loop went without running the ticker meanwhile."""
    gaps: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(ticking(gaps, stop))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    answer = await call(sessions)
    took = time.perf_counter() - started
    stop.set()
    await ticker
    return took, max(gaps, default=0.0), answer


async def read_register(sessions: Any) -> Any:
    async with sessions() as session:
        return await current_register(session)


def previewing(target: dict[str, Any]) -> Callable[[Any], Awaitable[Any]]:
    async def call(sessions: Any) -> Any:
        return await preview.preview(
            sessions=sessions,
            principal=EDITOR,
            request=PreviewRequest.model_validate({"target": target}),
            unsubscribe_base_url=None,
            four_eyes_threshold=1000,
        )

    return call


async def main(args: argparse.Namespace) -> None:
    points = address_points(read_file(CSV))
    targets: dict[str, dict[str, Any]] = {
        "street Masarykova": {"streets": [{"name": "Masarykova"}]},
        "every address point by code (16,140)": {"address_points": [p.code for p in points]},
        "a polygon of 10,000 vertices over the city": {"polygons": [{"points": ring(10_000, 0.05)}]},
        "100 circles of 2 km": {
            "circles": [
                {"latitude": CENTRE[0] + 0.001 * i, "longitude": CENTRE[1], "radius_m": 2000}
                for i in range(100)
            ]
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        async with sessions_on(f"sqlite:///{tmp}/bench.db", Base.metadata) as sessions:
            events = subscribers(points, args.subscribers, random.Random(563889))
            while chunk := list(itertools.islice(events, 500)):
                async with sessions() as session, session.begin():
                    await apply_subscriber_events(session, chunk)
            # the composer reads the register into memory when it starts (and again after an import)
            took, blocked, _ = await timed(sessions, read_register)
            print(
                f"  {'reading the register into memory':<46} {took * 1000:9,.0f} ms; "
                f"loop blocked at most {blocked * 1000:7,.0f} ms"
            )
            results: dict[str, Any] = {
                "reading the register": {"seconds": round(took, 3), "event_loop_blocked_s": round(blocked, 3)}
            }
            for name, target in targets.items():
                took, blocked, read = await timed(sessions, previewing(target))
                results[name] = {
                    "seconds": round(took, 3),
                    "event_loop_blocked_s": round(blocked, 3),
                    "address_points": read.address_points,
                }
                print(
                    f"  {name:<46} {took * 1000:9,.0f} ms; loop blocked at most {blocked * 1000:7,.0f} ms; "
                    f"{read.address_points} points"
                )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": f"{platform.machine()}, {platform.python_version()}, {args.label}",
                    "subscribers": args.subscribers,
                    "previews": results,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=16_140)
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--label", default="", help="which code was measured, for the JSON")
    asyncio.run(main(parser.parse_args()))

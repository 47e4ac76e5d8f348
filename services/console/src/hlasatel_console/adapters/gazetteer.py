"""The register's districts and street names for the target builder's lists, read from the registry and
kept for a few minutes (they change once a month, with RÚIAN's import)."""

import asyncio
import time
from dataclasses import dataclass

from hlasatel_console.adapters.registry import RegistryApi


@dataclass(frozen=True)
class Names:
    districts: list[str]
    # street name → the districts it crosses, in the register's order
    streets: dict[str, list[str]]


class Gazetteer:
    def __init__(self, registry: RegistryApi, *, keep_s: float = 600.0) -> None:
        self._registry = registry
        self._keep_s = keep_s
        self._names: Names | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def names(self) -> Names:
        async with self._lock:
            if self._names is None or time.monotonic() - self._read_at > self._keep_s:
                self._names = await self._read()
                self._read_at = time.monotonic()
            return self._names

    async def _read(self) -> Names:
        districts = sorted(await self._registry.districts(), key=lambda d: str(d["name"]))
        found = await asyncio.gather(*(self._registry.streets(int(d["code"])) for d in districts))
        streets: dict[str, list[str]] = {}
        for district, its_streets in zip(districts, found, strict=True):
            for street in its_streets:
                streets.setdefault(str(street["name"]), []).append(str(district["name"]))
        return Names(districts=[str(d["name"]) for d in districts], streets=dict(sorted(streets.items())))

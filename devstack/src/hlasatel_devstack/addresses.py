"""The Liberec address points as the registry publishes them, for every test that needs the real city
without importing the registry: one shared fixture, made by `registry export-address-points` from the
RÚIAN file in ../shared/data and checked against it by the registry's own tests."""

import functools
import gzip
from pathlib import Path

from hlasatel_contracts import AddressPoint

LIBEREC = Path(__file__).parent / "data" / "liberec-address-points.jsonl.gz"


@functools.cache
def _read(path: Path) -> tuple[AddressPoint, ...]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return tuple(AddressPoint.model_validate_json(line) for line in lines if line.strip())


def liberec_points() -> list[AddressPoint]:
    """All 16,140 address points of Liberec (RÚIAN, 31 December 2023), in the registry's order."""
    return list(_read(LIBEREC))

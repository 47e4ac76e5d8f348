"""The Liberec (and Jablonec nad Nisou) address points as the registry publishes them, for every test that
needs a real city without importing the registry: shared fixtures, made by `registry
export-address-points` from the RÚIAN files in ../shared/data and checked against them by the registry's
own tests."""

import functools
import gzip
from pathlib import Path

from hlasatel_contracts import AddressPoint

LIBEREC = Path(__file__).parent / "data" / "liberec-address-points.jsonl.gz"
JABLONEC = Path(__file__).parent / "data" / "jablonec-address-points.jsonl.gz"


@functools.cache
def _read(path: Path) -> tuple[AddressPoint, ...]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return tuple(AddressPoint.model_validate_json(line) for line in lines if line.strip())


def liberec_points() -> list[AddressPoint]:
    """All 16,140 address points of Liberec (RÚIAN, 31 December 2023), in the registry's order."""
    return list(_read(LIBEREC))


def jablonec_points() -> list[AddressPoint]:
    """All 7,414 address points of Jablonec nad Nisou (RÚIAN, 31 December 2023): a second city, to show
    that nothing is Liberec's alone."""
    return list(_read(JABLONEC))

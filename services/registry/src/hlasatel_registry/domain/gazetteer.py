"""Reading RÚIAN "adresní místa" exports (cp1250, ';') into address records. No I/O beyond the file given."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hlasatel_contracts import BuildingKind

COLUMNS = (
    "Kód ADM",
    "Kód obce",
    "Název obce",
    "Kód MOMC",
    "Název MOMC",
    "Kód obvodu Prahy",
    "Název obvodu Prahy",
    "Kód části obce",
    "Název části obce",
    "Kód ulice",
    "Název ulice",
    "Typ SO",
    "Číslo domovní",
    "Číslo orientační",
    "Znak čísla orientačního",
    "PSČ",
    "Souřadnice Y",
    "Souřadnice X",
    "Platí Od",
)
_BUILDING_KINDS = {"č.p.": BuildingKind.POPISNE, "č.ev.": BuildingKind.EVIDENCNI}


class GazetteerFormatError(ValueError):
    """The file is not an RÚIAN address-point export."""


@dataclass(frozen=True)
class AddressRecord:
    code: int
    municipality_code: int
    municipality: str
    district_code: int
    district: str
    street_code: int | None
    street: str | None
    building_kind: BuildingKind
    building_number: int
    orientation_number: int | None
    orientation_letter: str | None
    postcode: str
    sjtsk_y: float | None
    sjtsk_x: float | None


def _int_or_none(value: str) -> int | None:
    return int(value) if value.strip() else None


def _float_or_none(value: str) -> float | None:
    return float(value) if value.strip() else None


def _record(row: dict[str, str], line: int) -> AddressRecord:
    try:
        return AddressRecord(
            code=int(row["Kód ADM"]),
            municipality_code=int(row["Kód obce"]),
            municipality=row["Název obce"],
            district_code=int(row["Kód části obce"]),
            district=row["Název části obce"],
            street_code=_int_or_none(row["Kód ulice"]),
            street=row["Název ulice"] or None,
            building_kind=_BUILDING_KINDS[row["Typ SO"]],
            building_number=int(row["Číslo domovní"]),
            orientation_number=_int_or_none(row["Číslo orientační"]),
            orientation_letter=row["Znak čísla orientačního"] or None,
            postcode=row["PSČ"],
            sjtsk_y=_float_or_none(row["Souřadnice Y"]),
            sjtsk_x=_float_or_none(row["Souřadnice X"]),
        )
    except (KeyError, ValueError) as exc:
        raise GazetteerFormatError(f"line {line}: {type(exc).__name__} {exc}") from None


def parse(text: str) -> Iterator[AddressRecord]:
    """Address records of an export already decoded to text."""
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise GazetteerFormatError(f"not an RÚIAN address-point export: missing columns {', '.join(missing)}")
    for line, row in enumerate(reader, start=2):
        yield _record(row, line)


def read_file(path: Path) -> list[AddressRecord]:
    """Read an export as ČÚZK publishes it (cp1250); UTF-8 copies are accepted too."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1250")
    return list(parse(text))

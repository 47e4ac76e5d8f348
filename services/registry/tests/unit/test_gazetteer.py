from collections import Counter
from pathlib import Path

import pytest

from hlasatel_contracts import AddressPoint, BuildingKind
from hlasatel_contracts.addresses import label
from hlasatel_devstack.addresses import JABLONEC, LIBEREC
from hlasatel_registry.domain.coordinates import address_points, to_wgs84
from hlasatel_registry.domain.gazetteer import GazetteerFormatError, parse, read_file
from hlasatel_registry.entrypoints.cli import write_points


@pytest.fixture(scope="module")
def liberec(liberec_csv: Path) -> list:  # type: ignore[type-arg]
    return read_file(liberec_csv)


class TestLiberecExport:
    """Figures that SOURCES.md states for the real Liberec file."""

    def test_every_address_point_is_read(self, liberec: list) -> None:  # type: ignore[type-arg]
        assert len(liberec) == 16_140
        assert len({r.code for r in liberec}) == 16_140

    def test_districts_and_streets(self, liberec: list) -> None:  # type: ignore[type-arg]
        assert len({r.district_code for r in liberec}) == 33
        assert len({r.street_code for r in liberec if r.street_code}) == 987

    def test_evidencni_numbers_letters_and_streetless_addresses(self, liberec: list) -> None:  # type: ignore[type-arg]
        kinds = Counter(r.building_kind for r in liberec)
        assert kinds[BuildingKind.EVIDENCNI] == 534
        assert sum(1 for r in liberec if r.orientation_number is not None) == 8_886
        assert sum(1 for r in liberec if r.orientation_letter) == 487
        assert sum(1 for r in liberec if r.street is None) == 100

    def test_czech_names_survive_cp1250(self, liberec: list) -> None:  # type: ignore[type-arg]
        assert "Liberec I-Staré Město" in {r.district for r in liberec}
        assert "nám. Dr. E. Beneše" in {r.street for r in liberec}

    def test_a_street_crossing_five_districts(self, liberec: list) -> None:  # type: ignore[type-arg]
        assert len({r.district_code for r in liberec if r.street == "Kubelíkova"}) == 5


class TestFormat:
    def test_a_file_that_is_not_an_export_is_refused_with_the_missing_columns(self) -> None:
        with pytest.raises(GazetteerFormatError, match="missing columns"):
            list(parse("a;b;c\n1;2;3\n"))

    def test_a_broken_row_names_its_line(self, liberec_csv: Path) -> None:
        header, first, *_ = liberec_csv.read_bytes().decode("cp1250").splitlines()
        broken = first.replace(";č.p.;", ";chata;")
        with pytest.raises(GazetteerFormatError, match="line 3"):
            list(parse("\n".join([header, first, broken])))


class TestLabel:
    def test_house_with_orientation_number_and_letter(self) -> None:
        text = label(
            AddressPoint(
                code=1,
                district_code=1,
                street="Rumjancevova",
                district="Liberec I-Staré Město",
                building_kind=BuildingKind.POPISNE,
                building_number=1362,
                orientation_number=21,
                orientation_letter="b",
                postcode="46001",
            )
        )
        assert text == "Rumjancevova 1362/21b, Liberec I-Staré Město, 460 01"

    def test_address_without_a_street(self) -> None:
        text = label(
            AddressPoint(
                code=1,
                district_code=1,
                street=None,
                district="Liberec XXV-Vesec",
                building_kind=BuildingKind.POPISNE,
                building_number=244,
                orientation_number=None,
                orientation_letter=None,
                postcode="46311",
            )
        )
        assert text == "č.p. 244, Liberec XXV-Vesec, 463 11"

    def test_evidencni_number_is_marked(self) -> None:
        text = label(
            AddressPoint(
                code=1,
                district_code=1,
                street="Ke Kamenci",
                district="Liberec XXX-Vratislavice nad Nisou",
                building_kind=BuildingKind.EVIDENCNI,
                building_number=12,
                orientation_number=None,
                orientation_letter=None,
                postcode="46311",
            )
        )
        assert text.startswith("Ke Kamenci č.ev. 12,")


class TestCoordinates:
    def test_liberec_town_hall_lands_on_the_town_hall(self) -> None:
        # nám. Dr. E. Beneše 1 (the town hall): 50.7703 N, 15.0584 E on any map.
        ((latitude, longitude),) = to_wgs84([(687903.86, 973739.09)])
        assert latitude == pytest.approx(50.7703, abs=0.0005)
        assert longitude == pytest.approx(15.0584, abs=0.0005)


@pytest.mark.parametrize(
    ("city", "fixture", "count"), [("liberec", LIBEREC, 16_140), ("jablonec", JABLONEC, 7_414)]
)
def test_the_address_points_every_other_test_uses_are_those_the_registry_publishes(
    city: str, fixture: Path, count: int, shared_data: Path, tmp_path: Path
) -> None:
    """devstack's shared fixtures (the composer's and the system's tests read them instead of importing
    the registry) are this parser's output for the real files, byte for byte."""
    source = (
        shared_data
        / "ruian"
        / {"liberec": "20231231_OB_563889_ADR.csv", "jablonec": "20231231_OB_563510_ADR.csv"}[city]
    )
    made = tmp_path / "points.jsonl.gz"
    assert write_points(address_points(read_file(source)), made) == count
    assert made.read_bytes() == fixture.read_bytes(), (
        "devstack's address points differ from the registry's: make them again with "
        f"`.venv/bin/registry export-address-points {source} {fixture}`"
    )

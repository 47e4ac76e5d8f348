"""Every selector on the real Liberec gazetteer, checked against counts computed straight from the CSV."""

import csv
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pyproj import Geod

from hlasatel_composer.domain.targeting import HouseNumbers, NumberSpan, Target
from hlasatel_contracts import AddressPoint


@pytest.fixture(scope="module")
def rows(liberec_csv: Path) -> list[dict[str, str]]:
    """The RÚIAN file as plain rows, the independent side of every comparison."""
    with liberec_csv.open(encoding="cp1250", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def selected(target: dict[str, Any], points: list[AddressPoint]) -> set[int]:
    parsed = Target.model_validate(target)
    return {p.code for p in points if parsed.selects(p)}


def codes(rows: list[dict[str, str]], keep: Any) -> set[int]:
    return {int(r["Kód ADM"]) for r in rows if keep(r)}


def orientation(row: dict[str, str]) -> int | None:
    return int(row["Číslo orientační"]) if row["Číslo orientační"] else None


class TestStreetsAndDistricts:
    def test_the_whole_city_is_every_address_point(self, liberec: list[AddressPoint], rows: Any) -> None:
        assert len(selected({"city": True}, liberec)) == len(rows) == 16140

    def test_a_district(self, liberec: list[AddressPoint], rows: Any) -> None:
        district = "Liberec XIV-Ruprechtice"
        expected = codes(rows, lambda r: r["Název části obce"] == district)
        assert selected({"districts": [district]}, liberec) == expected
        assert len(expected) == 1289

    def test_a_street_across_five_districts_and_within_one(
        self, liberec: list[AddressPoint], rows: Any
    ) -> None:
        everywhere = codes(rows, lambda r: r["Název ulice"] == "Kubelíkova")
        assert selected({"streets": [{"name": "Kubelíkova"}]}, liberec) == everywhere
        district = sorted({r["Název části obce"] for r in rows if r["Název ulice"] == "Kubelíkova"})[0]
        within = codes(rows, lambda r: r["Název ulice"] == "Kubelíkova" and r["Název části obce"] == district)
        assert selected({"streets": [{"name": "Kubelíkova", "district": district}]}, liberec) == within
        assert 0 < len(within) < len(everywhere)

    def test_names_are_matched_regardless_of_case(self, liberec: list[AddressPoint]) -> None:
        assert selected({"streets": [{"name": "masarykova"}]}, liberec) == selected(
            {"streets": [{"name": "Masarykova"}]}, liberec
        )


class TestHouseNumbers:
    def test_odd_side_of_a_range_with_lettered_houses(self, liberec: list[AddressPoint], rows: Any) -> None:
        def keep(r: dict[str, str]) -> bool:
            number = orientation(r)
            return (
                r["Název ulice"] == "Ruprechtická" and number is not None and 1 <= number <= 41 and number % 2
            )

        expected = codes(rows, keep)
        got = selected(
            {"streets": [{"name": "Ruprechtická", "houses": {"numbers": ["1-41"], "side": "odd"}}]}, liberec
        )
        assert got == expected
        assert any(r["Znak čísla orientačního"] for r in rows if int(r["Kód ADM"]) in got)

    def test_odd_and_even_make_every_numbered_house(self, liberec: list[AddressPoint], rows: Any) -> None:
        street = "Dr. Milady Horákové"
        odd = selected({"streets": [{"name": street, "houses": {"side": "odd"}}]}, liberec)
        even = selected({"streets": [{"name": street, "houses": {"side": "even"}}]}, liberec)
        numbered = codes(rows, lambda r: r["Název ulice"] == street and orientation(r) is not None)
        assert odd | even == numbered and not odd & even

    def test_a_single_number_is_that_house_and_a_letter_picks_its_neighbour(
        self, liberec: list[AddressPoint], rows: Any
    ) -> None:
        lettered = next(
            r for r in rows if r["Název ulice"] == "Ruprechtická" and r["Znak čísla orientačního"]
        )
        number, letter = lettered["Číslo orientační"], lettered["Znak čísla orientačního"]

        def with_number(text: str) -> set[int]:
            houses = {"numbers": [text]}
            return selected({"streets": [{"name": "Ruprechtická", "houses": houses}]}, liberec)

        assert with_number(f"{number}{letter}") == {int(lettered["Kód ADM"])}
        plain = codes(
            rows,
            lambda r: (
                r["Název ulice"] == "Ruprechtická"
                and r["Číslo orientační"] == number
                and not r["Znak čísla orientačního"]
            ),
        )
        assert with_number(number) == plain
        assert int(lettered["Kód ADM"]) in with_number(f"{number}-{number}")

    def test_cisla_evidencni(self, liberec: list[AddressPoint], rows: Any) -> None:
        cottages = [r for r in rows if r["Název ulice"] == "Chatařská" and r["Typ SO"] == "č.ev."]
        wanted = sorted(int(r["Číslo domovní"]) for r in cottages)[:10]
        expected = codes(
            rows,
            lambda r: (
                r["Název ulice"] == "Chatařská"
                and r["Typ SO"] == "č.ev."
                and int(r["Číslo domovní"]) in wanted
            ),
        )
        houses = {"by": "ce", "numbers": [str(n) for n in wanted]}
        assert selected({"streets": [{"name": "Chatařská", "houses": houses}]}, liberec) == expected
        assert len(expected) == 10

    @pytest.mark.parametrize(
        ("text", "covered", "not_covered"),
        [
            ("12", [(12, "")], [(12, "a"), (13, "")]),
            ("12a", [(12, "a")], [(12, ""), (12, "b")]),
            ("10-14", [(10, ""), (12, "b"), (14, "a")], [(9, ""), (15, "")]),
            ("3a-7", [(3, "a"), (7, ""), (7, "c")], [(3, ""), (8, "")]),
            ("3-7a", [(3, ""), (7, "a")], [(7, "b")]),
        ],
    )
    def test_what_a_number_or_range_covers(
        self, text: str, covered: list[Any], not_covered: list[Any]
    ) -> None:
        span = NumberSpan.parse(text)
        assert all(span.covers(n, letter) for n, letter in covered)
        assert not any(span.covers(n, letter) for n, letter in not_covered)

    @pytest.mark.parametrize("numbers", [["12-3"], ["x"], ["1--2"]])
    def test_nonsense_numbers_are_refused_with_a_reason(self, numbers: list[str]) -> None:
        with pytest.raises(ValidationError, match=r"house number|backwards"):
            HouseNumbers(numbers=numbers)


class TestAreas:
    def test_an_l_shaped_polygon_is_the_union_of_its_two_rectangles(
        self, liberec: list[AddressPoint], rows: Any
    ) -> None:
        # around the town hall: a 1 km square with its north-east quarter cut away
        south, west, north, east = 50.764, 15.045, 50.773, 15.060
        mid_lat, mid_lon = (south + north) / 2, (west + east) / 2
        polygon = [
            [south, west],
            [north, west],
            [north, mid_lon],
            [mid_lat, mid_lon],
            [mid_lat, east],
            [south, east],
        ]

        def inside(p: AddressPoint) -> bool:
            lat, lon = p.latitude or 0.0, p.longitude or 0.0
            west_half = south < lat < north and west < lon < mid_lon
            south_half = south < lat < mid_lat and west < lon < east
            return west_half or south_half

        expected = {p.code for p in liberec if inside(p)}
        assert selected({"polygons": [{"points": polygon}]}, liberec) == expected
        assert len(expected) > 300

    def test_a_circle_agrees_with_the_geodesic_distance(self, liberec: list[AddressPoint]) -> None:
        centre = (50.7697, 15.0584)  # nám. Dr. E. Beneše
        geod = Geod(ellps="WGS84")
        expected = {
            p.code
            for p in liberec
            if p.latitude is not None
            and geod.inv(centre[1], centre[0], p.longitude, p.latitude)[2] <= 400 - 1  # 1 m for the sphere
        }
        got = selected(
            {"circles": [{"latitude": centre[0], "longitude": centre[1], "radius_m": 400}]}, liberec
        )
        assert expected <= got and len(got - expected) <= 5 and len(expected) > 100


class TestUnionsAndExclusions:
    def test_a_district_except_one_street(self, liberec: list[AddressPoint], rows: Any) -> None:
        district = "Liberec I-Staré Město"
        target = {"districts": [district], "exclude": {"streets": [{"name": "Moskevská"}]}}
        expected = codes(
            rows, lambda r: r["Název části obce"] == district and r["Název ulice"] != "Moskevská"
        )
        assert selected(target, liberec) == expected

    def test_a_selector_minus_itself_is_empty_and_union_is_commutative(
        self, liberec: list[AddressPoint]
    ) -> None:
        street = {"name": "Masarykova", "houses": {"numbers": ["1-20"]}}
        assert selected({"streets": [street], "exclude": {"streets": [street]}}, liberec) == set()
        a = {"districts": ["Liberec V-Kristiánov"], "streets": [street]}
        b = {"streets": [street], "districts": ["Liberec V-Kristiánov"]}
        assert selected(a, liberec) == selected(b, liberec)

    def test_a_target_that_selects_nothing_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="selects nothing"):
            Target.model_validate({"exclude": {"city": True}})

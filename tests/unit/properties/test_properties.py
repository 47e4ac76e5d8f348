"""Properties that hold for any input hypothesis can think of: targeting over the real Liberec address
points, the SMS segment counter against an independent GSM 03.38 codec, and parsers that raise nothing
but their own errors."""

import contextlib
import math
from functools import cache
from pathlib import Path

import gsm0338  # noqa: F401  (registers the 'gsm03.38' codec: an implementation independent of ours)
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hlasatel_composer.domain.cap import CapRejected, parse_cap
from hlasatel_composer.domain.register import Register
from hlasatel_composer.domain.targeting import (
    Circle,
    HouseNumbers,
    Polygon,
    Selection,
    StreetSelector,
    Target,
)
from hlasatel_contracts import AddressPoint
from hlasatel_contracts.sms import GSM7_BASIC, GSM7_EXTENSION, SmsEncoding, measure
from hlasatel_registry.domain.gazetteer import read_file
from hlasatel_registry.domain.search import AddressIndex, Entry

FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
# each example tests every address point of its streets and an eighth of the rest: 16,140 points a
# property times a hundred examples would take minutes
TARGETING = settings(FIXTURES, max_examples=30)


@pytest.fixture(scope="module")
def points(liberec: list[AddressPoint]) -> tuple[AddressPoint, ...]:
    return tuple(liberec)


@pytest.fixture(scope="module")
def streets(points: tuple[AddressPoint, ...]) -> list[str]:
    return sorted({p.street for p in points if p.street})


def _tested(points: tuple[AddressPoint, ...], *selections: Selection) -> tuple[AddressPoint, ...]:
    """Every address point of the selections' streets and an eighth of the rest."""
    named = {street.name for selection in selections for street in selection.streets}
    return tuple(p for i, p in enumerate(points) if i % 8 == 0 or p.street in named)


def _selected(selection: Selection, points: tuple[AddressPoint, ...]) -> set[int]:
    return {p.code for p in points if selection.selects(p)}


LIBEREC_LAT, LIBEREC_LON = (50.70, 50.83), (14.98, 15.15)
latitudes = st.floats(*LIBEREC_LAT)
longitudes = st.floats(*LIBEREC_LON)
polygons = st.lists(st.tuples(latitudes, longitudes), min_size=3, max_size=8).map(lambda p: Polygon(points=p))
circles = st.builds(Circle, latitude=latitudes, longitude=longitudes, radius_m=st.floats(1, 3000))


def selections(street_names: list[str]) -> st.SearchStrategy[Selection]:
    street = st.builds(
        StreetSelector,
        name=st.sampled_from(street_names),
        houses=st.none() | st.builds(HouseNumbers, side=st.sampled_from(["odd", "even"])),
    )
    return st.builds(
        Selection,
        streets=st.lists(street, max_size=3),
        polygons=st.lists(polygons, max_size=2),
        circles=st.lists(circles, max_size=2),
    )


class TestTargeting:
    @TARGETING
    @given(data=st.data())
    def test_odd_and_even_together_are_every_numbered_house_of_a_street(
        self, points: tuple[AddressPoint, ...], streets: list[str], data: st.DataObject
    ) -> None:
        name = data.draw(st.sampled_from(streets))

        def side(which: str) -> set[int]:
            houses = HouseNumbers(side=which)  # type: ignore[arg-type]
            selection = Selection(streets=[StreetSelector(name=name, houses=houses)])
            return _selected(selection, _tested(points, selection))

        numbered = {p.code for p in points if p.street == name and p.orientation_number is not None}
        assert side("odd") | side("even") == numbered
        assert not side("odd") & side("even")

    @TARGETING
    @given(data=st.data())
    def test_a_selector_minus_itself_is_empty(
        self, points: tuple[AddressPoint, ...], streets: list[str], data: st.DataObject
    ) -> None:
        selection = data.draw(selections(streets))
        assume(not selection.is_empty())
        target = Target(**selection.model_dump(), exclude=selection)
        assert _selected(target, _tested(points, selection)) == set()

    @TARGETING
    @given(data=st.data())
    def test_union_is_commutative_and_is_the_union_of_its_parts(
        self, points: tuple[AddressPoint, ...], streets: list[str], data: st.DataObject
    ) -> None:
        a, b = data.draw(selections(streets)), data.draw(selections(streets))

        def union(first: Selection, second: Selection) -> Selection:
            return Selection(
                streets=first.streets + second.streets,
                polygons=first.polygons + second.polygons,
                circles=first.circles + second.circles,
            )

        tested = _tested(points, a, b)
        assert _selected(union(a, b), tested) == _selected(union(b, a), tested)
        assert _selected(union(a, b), tested) == _selected(a, tested) | _selected(b, tested)


def _segments(units: list[int], single: int, part: int) -> int:
    """The oracle's own concatenation rule: parts of `part` units, a character never split."""
    if sum(units) <= single:
        return 1 if units else 0
    segments, used = 1, 0
    for cost in units:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments


gsm_text = st.text(
    alphabet=st.sampled_from(sorted(set(GSM7_BASIC) - {"\x1b"} | set(GSM7_EXTENSION.values())))
)
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=400)


@pytest.fixture(scope="module")
def register(points: tuple[AddressPoint, ...]) -> Register:
    return Register(points)


def any_target(points: tuple[AddressPoint, ...], street_names: list[str]) -> st.SearchStrategy[Target]:
    """Targets of every kind of selector over the real city: districts, streets (in a district or not)
    with any house numbers, codes, polygons and circles, less any of the same."""
    districts = sorted({p.district for p in points})
    numbers = st.lists(
        st.integers(1, 60).map(str)
        | st.tuples(st.integers(1, 40), st.integers(0, 30)).map(lambda r: f"{r[0]}-{r[0] + r[1]}")
        | st.tuples(st.integers(1, 40), st.sampled_from("abc")).map(lambda r: f"{r[0]}{r[1]}"),
        max_size=4,
    )
    houses = (
        st.builds(HouseNumbers, numbers=numbers.filter(bool), side=st.sampled_from(["odd", "even", None]))
        | st.builds(HouseNumbers, numbers=numbers, side=st.sampled_from(["odd", "even"]))
        | st.builds(HouseNumbers, side=st.sampled_from(["odd", "even"]), by=st.sampled_from(["cp", "ce"]))
    )
    street = st.builds(
        StreetSelector,
        name=st.sampled_from(street_names).map(lambda n: n.upper() if len(n) % 3 == 0 else n),
        district=st.none() | st.sampled_from(districts),
        houses=st.none() | houses,
    )
    selection = st.builds(
        Selection,
        districts=st.lists(st.sampled_from(districts), max_size=2),
        streets=st.lists(street, max_size=3),
        address_points=st.lists(st.sampled_from([p.code for p in points]), max_size=5),
        polygons=st.lists(polygons, max_size=2),
        circles=st.lists(circles, max_size=2),
    )
    return st.builds(
        lambda chosen, exclude: Target(**chosen.model_dump(), exclude=exclude),
        selection.filter(lambda chosen: not chosen.is_empty()),
        st.none() | selection,
    )


class TestTheRegisterInMemory:
    @TARGETING
    @given(data=st.data())
    def test_it_selects_for_every_point_at_once_what_the_target_says_of_each(
        self, points: tuple[AddressPoint, ...], streets: list[str], register: Register, data: st.DataObject
    ) -> None:
        """`Target.selects` is the one definition of a target: the register's indexes give its answer."""
        target = data.draw(any_target(points, streets))
        assert set(register.resolve(target)) == {p.code for p in points if target.selects(p)}


class TestSmsSegments:
    @given(text=gsm_text | any_text | st.tuples(gsm_text, any_text).map("".join))
    def test_the_counter_agrees_with_an_independent_gsm_03_38_codec(self, text: str) -> None:
        length = measure(text)
        try:
            # the codec takes a bare ESC (0x1B) as the escape it writes before an extension character; in
            # a text it is no character a phone shows, and the counter rightly sends such a text as UCS-2
            if "\x1b" in text:
                raise UnicodeEncodeError("gsm03.38", text, 0, 1, "a bare escape")
            septets = text.encode("gsm03.38")
        except UnicodeEncodeError:
            utf16 = [len(c.encode("utf-16-be")) // 2 for c in text]
            assert (length.encoding, length.units) == (SmsEncoding.UCS_2, sum(utf16))
            assert length.segments == _segments(utf16, 70, 67)
            return
        costs = [len(c.encode("gsm03.38")) for c in text]
        assert (length.encoding, length.units) == (SmsEncoding.GSM_7, len(septets))
        assert length.segments == _segments(costs, 160, 153)
        assert length.segments >= math.ceil(len(septets) / 160)


_VALID = (
    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>1</identifier><sender>s</sender>'
    b"<sent>2026-12-02T10:00:00+01:00</sent><status>Actual</status><msgType>Alert</msgType>"
    b"<scope>Public</scope><info><category>Met</category><event>e</event><urgency>Immediate</urgency>"
    b"<severity>Moderate</severity><certainty>Likely</certainty><area><areaDesc>a</areaDesc>"
    b"<polygon>50.7,15.0 50.8,15.0 50.8,15.1 50.7,15.0</polygon><circle>50.7,15.0 2</circle></area>"
    b"</info></alert>"
)


class TestParsersRaiseOnlyTheirOwnErrors:
    def test_the_document_damaged_below_starts_valid(self) -> None:
        assert parse_cap(_VALID).infos[0].areas[0].circles[0].radius_km == 2

    @given(data=st.binary(max_size=600))
    def test_cap_from_any_bytes(self, data: bytes) -> None:
        with contextlib.suppress(CapRejected):
            parse_cap(data)

    @given(position=st.integers(0, len(_VALID) - 1), replacement=st.binary(min_size=0, max_size=4))
    def test_cap_from_a_valid_document_damaged_anywhere(self, position: int, replacement: bytes) -> None:
        with contextlib.suppress(CapRejected):
            parse_cap(_VALID[:position] + replacement + _VALID[position + 1 :])

    @FIXTURES
    @given(text=st.text(max_size=80))
    def test_address_search_answers_any_text(self, liberec_csv: Path, text: str) -> None:
        found = _index(liberec_csv).search(text, limit=5)
        assert len(found) <= 5 and all(match.entry.code > 0 for match in found)


@cache
def _index(csv: Path) -> AddressIndex:
    return AddressIndex(
        [
            Entry(
                r.code,
                r.street,
                r.district,
                r.building_kind,
                r.building_number,
                r.orientation_number,
                r.orientation_letter,
            )
            for r in read_file(csv)
        ]
    )

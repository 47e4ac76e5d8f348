"""Address search on the real Liberec gazetteer, with inputs as people type them."""

from pathlib import Path

import pytest

from hlasatel_registry.domain.gazetteer import read_file
from hlasatel_registry.domain.search import AddressIndex, Entry, Query

# input → the RÚIAN code of the address point that must come first
EXPECTED_FIRST = [
    ("Masarykova 12, Liberec", 23657235),  # 522/12, not 1423/12a
    ("masarykova 12", 23657235),
    ("MASARYKOVA 522/12", 23657235),
    ("Masarykova 522 / 12", 23657235),
    ("Masarykova 12a", 81093250),
    ("Masarykova 12 a", 81093250),
    ("Masarykova 1423/12a", 81093250),
    ("Rumjancevova 21b", 23654015),
    ("rumjancevova 95/21b", 23654015),
    ("Rumjancevova 21a", 23654007),
    ("vesec 244", 25368745),  # Liberec XXV-Vesec č.p. 244 has no street
    ("Liberec XXV-Vesec č.p. 244", 25368745),
    ("nám. Dr. E. Beneše 1", 23653124),  # the town hall
    ("namesti Dr. E. Benese 1", 23653124),
    ("Jablonecká 6", 23653141),
    ("jablonecka 7/6", 23653141),
]


@pytest.fixture(scope="module")
def index(liberec_csv: Path) -> AddressIndex:
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
            for r in read_file(liberec_csv)
        ]
    )


class TestSearch:
    @pytest.mark.parametrize(("typed", "code"), EXPECTED_FIRST)
    def test_the_right_address_point_comes_first(self, index: AddressIndex, typed: str, code: int) -> None:
        assert index.search(typed)[0].entry.code == code

    def test_a_number_without_a_letter_never_matches_the_lettered_house(self, index: AddressIndex) -> None:
        assert 81093250 not in {m.entry.code for m in index.search("Masarykova 12")}

    def test_a_wrong_letter_matches_nothing(self, index: AddressIndex) -> None:
        assert index.search("Masarykova 12z") == []

    def test_a_street_alone_lists_its_houses(self, index: AddressIndex) -> None:
        results = index.search("Kubelíkova", limit=50)
        assert len(results) == 36 and {m.entry.street for m in results} == {"Kubelíkova"}

    def test_an_ordinal_street_name_is_not_a_house_number(self, index: AddressIndex) -> None:
        first = index.search("28. října 37")[0].entry
        assert (first.code, first.street, first.orientation_number) == (23676582, "28. října", 37)


class TestSuggestions:
    def test_a_house_that_does_not_exist_suggests_the_nearest_numbers(self, index: AddressIndex) -> None:
        assert index.search("Masarykova 47") == []
        suggestions = index.suggest("Masarykova 47")
        assert {e.street for e in suggestions} == {"Masarykova"}
        assert suggestions[0].orientation_number == 46

    def test_a_misspelt_street_suggests_the_street(self, index: AddressIndex) -> None:
        assert index.search("Masarikova 12") == []
        assert index.suggest("Masarikova 12")[0].code == 23657235

    def test_nonsense_suggests_nothing(self, index: AddressIndex) -> None:
        assert index.search("qwertzuiop 5") == []
        assert index.suggest("qwertzuiop 5") == []


class TestQuery:
    def test_markers_and_the_city_are_not_search_words(self) -> None:
        query = Query.parse("Liberec, č.p. 244", ignore={"liberec"})
        assert (query.words, query.number) == ((), 244)

"""Address search for people typing: 'Masarykova 12, Liberec', 'masarykova 522/12', 'vesec 244'. Pure."""

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from hlasatel_contracts import BuildingKind

_NUMBER = re.compile(r"^(?:(?P<building>\d+)/)?(?P<number>\d+)(?P<letter>[a-z])?$")
# Street names abbreviate these words; people type them out.
_ABBREVIATIONS = {"nam": "namesti", "tr": "trida", "sidl": "sidliste", "nabr": "nabrezi", "sady": "sady"}
_MARKERS = {"c", "p", "cp", "ev", "cev", "c.p", "c.ev", "cislo", "popisne", "evidencni", "ul", "ulice"}


def fold(text: str) -> str:
    """Lower case without diacritics: 'Náměstí Dr. E. Beneše' → 'namesti dr. e. benese'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    # '28. října' is a street: an ordinal number is a word, not a house number
    return [w for w in re.split(r"[^a-z0-9/]+", re.sub(r"\b(\d+)\.", r"\1ord", fold(text))) if w]


@dataclass(frozen=True)
class Entry:
    code: int
    street: str | None
    district: str
    building_kind: BuildingKind
    building_number: int
    orientation_number: int | None
    orientation_letter: str | None


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...]
    building: int | None  # the číslo popisné of 'A/B'
    number: int | None  # B of 'A/B', or a lone number
    letter: str | None
    numbers_written_as_pair: bool

    @classmethod
    def parse(cls, text: str, *, ignore: Iterable[str] = ()) -> "Query":
        skipped = set(ignore) | _MARKERS
        words: list[str] = []
        building = number = None
        letter = None
        pair = False
        tokens = _words(re.sub(r"(\d)\s+([a-zA-Z])\b", r"\1\2", re.sub(r"\s*/\s*", "/", text)))
        for token in tokens:
            match = _NUMBER.match(token)
            if match and number is None:
                building = int(match["building"]) if match["building"] else None
                number, letter, pair = int(match["number"]), match["letter"], match["building"] is not None
            elif not token.isdigit() and token not in skipped and len(token) > 0:
                words.append(token)
        return cls(tuple(words), building, number, letter, pair)


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: int


@dataclass
class AddressIndex:
    """Every address point of the gazetteer, searchable by street or district words and house numbers."""

    entries: list[Entry]
    municipality_words: frozenset[str] = frozenset({"liberec"})
    _by_word: dict[str, set[int]] = field(default_factory=dict, init=False, repr=False)
    _by_number: dict[int, set[int]] = field(default_factory=dict, init=False, repr=False)
    _streets: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        by_word: dict[str, set[int]] = defaultdict(set)
        by_number: dict[int, set[int]] = defaultdict(set)
        for position, entry in enumerate(self.entries):
            for word in _words(f"{entry.street or ''} {entry.district}"):
                by_word[word].add(position)
                if word in _ABBREVIATIONS:
                    by_word[_ABBREVIATIONS[word]].add(position)
            by_number[entry.building_number].add(position)
            if entry.orientation_number is not None:
                by_number[entry.orientation_number].add(position)
            if entry.street:
                self._streets[fold(entry.street)] = entry.street
        self._by_word = dict(by_word)
        self._by_number = dict(by_number)

    def _candidates(self, words: tuple[str, ...]) -> set[int] | None:
        found: set[int] | None = None
        for word in words:
            positions = set().union(*(p for w, p in self._by_word.items() if w.startswith(word)))
            found = positions if found is None else found & positions
        return found

    def _score(self, entry: Entry, query: Query) -> int | None:
        """How well one address point answers the query; None where it does not."""
        score = 0
        street_words = _words(entry.street or "")
        street_words += [_ABBREVIATIONS[w] for w in street_words if w in _ABBREVIATIONS]
        if query.words and all(any(s.startswith(w) for s in street_words) for w in query.words):
            score += 20 if " ".join(query.words) == " ".join(street_words) else 10
        if query.number is None:
            return score
        if query.numbers_written_as_pair:
            if (entry.building_number, entry.orientation_number) != (query.building, query.number):
                return None
            return score + (100 if entry.orientation_letter == query.letter else -1_000)
        if entry.orientation_number == query.number and entry.orientation_letter == query.letter:
            return score + 100
        if query.letter is None and entry.building_number == query.number:
            # a number without a street is a číslo popisné (Vesec 244); with a street it is one only second
            return score + (90 if entry.street is None else 50)
        return None

    def search(self, text: str, *, limit: int = 10) -> list[Match]:
        """Address points matching the text, best first."""
        query = Query.parse(text, ignore=self.municipality_words)
        if not query.words and query.number is None:
            return []
        positions = self._candidates(query.words) if query.words else None
        if query.number is not None:
            numbered = self._by_number.get(query.number, set())
            positions = numbered if positions is None else positions & numbered
        if not positions:
            return []
        matches = []
        for position in positions:
            score = self._score(self.entries[position], query)
            if score is not None and score >= 0:
                matches.append(Match(self.entries[position], score))
        matches.sort(
            key=lambda m: (-m.score, m.entry.street or "", m.entry.orientation_number or 0, m.entry.code)
        )
        return matches[:limit]

    def suggest(self, text: str, *, limit: int = 5) -> list[Entry]:
        """The nearest existing addresses for a query that matched nothing."""
        query = Query.parse(text, ignore=self.municipality_words)
        positions = self._candidates(query.words) if query.words else None
        if not positions and query.words:
            close = difflib.get_close_matches(" ".join(query.words), self._streets, n=3, cutoff=0.6)
            positions = set().union(*(self._candidates(tuple(_words(name))) or set() for name in close))
        if not positions:
            return []
        candidates = [self.entries[p] for p in positions]
        target = query.number or 0
        candidates.sort(
            key=lambda e: (abs((e.orientation_number or e.building_number) - target), e.street or "", e.code)
        )
        return candidates[:limit]

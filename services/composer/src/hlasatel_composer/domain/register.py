"""The city's address register in memory: which of its address points a target selects, without a loop
over every point. Pure (numpy and GEOS, no I/O).

`Target.selects(point)` stays the one definition of what a target means; `Register.resolve` gives the
same answer for every point at once (a property test holds them to it): districts and streets through
dictionaries of their points, house numbers over the points of their street only, polygons and circles
through a spatial index (shapely's STRtree) and then the exact test, vectorised.
"""

import difflib
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely

from hlasatel_composer.domain.targeting import EARTH_RADIUS_M, Circle, PointFacts, Polygon, Selection, Target

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Point:
    """An address point of the register, as targeting and the reports need it."""

    code: int
    district_code: int
    district: str
    street: str | None
    building_kind: str
    building_number: int
    orientation_number: int | None
    orientation_letter: str | None
    postcode: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class UnknownName:
    """A district or street name the register does not have at all, and the nearest ones it has."""

    name: str
    kind: Literal["district", "street"]
    suggestions: tuple[str, ...]


def folded(name: str) -> str:
    """A name as people may type it: without case and without diacritics."""
    decomposed = unicodedata.normalize("NFD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _groups(keys: Iterable[str | None]) -> dict[str, npt.NDArray[np.intp]]:
    found: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if key is not None:
            found.setdefault(key.casefold(), []).append(i)
    return {key: np.array(indices, dtype=np.intp) for key, indices in found.items()}


class Register:
    """Every live address point of the city, indexed for selection; built once per change of the
    register (`adapters.register` rebuilds it when the database's generation moves)."""

    def __init__(self, points: Sequence[PointFacts], *, generation: int = 0) -> None:
        self.generation = generation
        self.points: tuple[PointFacts, ...] = tuple(points)
        self.codes = np.array([p.code for p in self.points], dtype=np.int64)
        self._index = {code: i for i, code in enumerate(self.codes.tolist())}
        self._districts = _groups(p.district for p in self.points)
        self._streets = _groups(p.street for p in self.points)
        self._district_of = np.array([p.district.casefold() for p in self.points], dtype=object)
        # the names as spelled, by their folded form: what a suggestion is chosen from
        self._spelled: dict[str, dict[str, str]] = {
            kind: {folded(name): name for name in sorted(names, reverse=True)}
            for kind, names in (
                ("district", {p.district for p in self.points}),
                ("street", {p.street for p in self.points if p.street}),
            )
        }
        located = [i for i, p in enumerate(self.points) if p.latitude is not None and p.longitude is not None]
        self._located = np.array(located, dtype=np.intp)
        self._lat = np.array([self.points[i].latitude for i in located], dtype=np.float64)
        self._lon = np.array([self.points[i].longitude for i in located], dtype=np.float64)
        located_points: Any = shapely.points(self._lon, self._lat)
        self._tree = shapely.STRtree(located_points)

    def __len__(self) -> int:
        return len(self.points)

    def point(self, code: int) -> PointFacts | None:
        i = self._index.get(code)
        return None if i is None else self.points[i]

    def resolve(self, target: Target) -> list[int]:
        """The codes of the live address points the target selects, less those its exclusions select."""
        mask = self._select(target)
        if target.exclude is not None:
            mask &= ~self._select(target.exclude)
        return [int(code) for code in self.codes[mask]]

    def selected(self, selection: Selection) -> set[int]:
        """The codes a selection (a key's area, say) selects."""
        return {int(code) for code in self.codes[self._select(selection)]}

    def _select(self, selection: Selection) -> Mask:
        mask = np.zeros(len(self.points), dtype=np.bool_)
        if selection.city:
            mask[:] = True
            return mask
        mask[
            np.array([self._index[c] for c in selection.address_points if c in self._index], dtype=np.intp)
        ] = True
        for district in selection.districts:
            mask[self._districts.get(district.casefold(), _NONE)] = True
        for street in selection.streets:
            on_street = self._streets.get(street.name.casefold(), _NONE)
            if street.district is not None:
                on_street = on_street[self._district_of[on_street] == street.district.casefold()]
            if street.houses is not None:
                houses = street.houses
                on_street = np.array([i for i in on_street if houses.selects(self.points[i])], dtype=np.intp)
            mask[on_street] = True
        for polygon in selection.polygons:
            mask[self._in_polygon(polygon)] = True
        for circle in selection.circles:
            mask[self._in_circle(circle)] = True
        return mask

    def _in_polygon(self, polygon: Polygon) -> npt.NDArray[np.intp]:
        """Inside the ring or on its edge, as `Polygon.contains`: the index gives the candidates within its
        bounds, GEOS the exact answer for all of them at once."""
        south, west, north, east = polygon.bounds()
        candidates = self._tree.query(shapely.box(west, south, east, north))
        inside: Mask = shapely.intersects_xy(polygon.shape, self._lon[candidates], self._lat[candidates])
        return self._located[candidates[inside]]

    def _in_circle(self, circle: Circle) -> npt.NDArray[np.intp]:
        """Within the great-circle distance, as `Circle.contains`; a point within a hair of the edge is
        decided by that very function, so that rounding never tells the two apart."""
        south, west, north, east = circle.bounds()
        candidates = self._tree.query(shapely.box(west, south, east, north))
        lat, lon = self._lat[candidates], self._lon[candidates]
        phi1, phi2 = math.radians(circle.latitude), np.radians(lat)
        d_phi, d_lambda = phi2 - phi1, np.radians(lon - circle.longitude)
        h = np.sin(d_phi / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(d_lambda / 2) ** 2
        distance = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
        edge = np.abs(distance - circle.radius_m) <= 1e-6 * max(circle.radius_m, 1.0)
        inside: Mask = (distance <= circle.radius_m) & ~edge
        for k in np.flatnonzero(edge):
            inside[k] = circle.contains(float(lat[k]), float(lon[k]))
        return self._located[candidates[inside]]

    def left_out(self, codes: Iterable[int]) -> list[int]:
        """The live points of the register that are not among these."""
        chosen = set(codes)
        return [code for code in self.codes.tolist() if code not in chosen]

    def streets(self, codes: Iterable[int]) -> list[str]:
        """The streets these points lie on, as 'street (district)'."""
        return sorted(
            {
                f"{p.street} ({p.district})"
                for code in codes
                if (p := self.point(code)) is not None and p.street is not None
            }
        )

    def unknown(self, target: Target) -> list[UnknownName]:
        """District and street names of the target that the register does not have at all (a typo, most
        often), each with the nearest names it has."""
        selections = [target, *([target.exclude] if target.exclude else [])]
        asked: list[tuple[Literal["district", "street"], str]] = [
            ("district", d) for s in selections for d in s.districts
        ]
        asked += [("street", st.name) for s in selections for st in s.streets]
        asked += [("district", st.district) for s in selections for st in s.streets if st.district]
        known = {"district": self._districts, "street": self._streets}
        unknown: dict[tuple[str, str], UnknownName] = {}
        for kind, name in asked:
            if name.casefold() not in known[kind] and (kind, name) not in unknown:
                unknown[(kind, name)] = UnknownName(name, kind, self.suggest(kind, name))
        return list(unknown.values())

    def suggest(self, kind: str, name: str, *, limit: int = 3) -> tuple[str, ...]:
        """The register's names nearest to one typed, diacritics and case aside."""
        spelled = self._spelled[kind]
        close = difflib.get_close_matches(folded(name), list(spelled), n=limit, cutoff=0.6)
        return tuple(spelled[match] for match in close)


_NONE = np.array([], dtype=np.intp)


@dataclass(frozen=True)
class Resolved:
    """The register's live address points a target selects, and the register they were chosen from."""

    register: Register
    codes: list[int]

    def points(self) -> list[PointFacts]:
        return [point for code in self.codes if (point := self.register.point(code)) is not None]


def register_of(rows: Iterable[Any], *, generation: int = 0) -> Register:
    """A register of database rows (or anything with a point's attributes)."""
    return Register(
        [Point(**{name: getattr(row, name) for name in _FIELDS}) for row in rows], generation=generation
    )


_FIELDS = tuple(Point.__dataclass_fields__)


def street_names(points: Iterable[PointFacts]) -> list[str]:
    """The streets of these address points, most addresses first; districts for houses without one."""
    counts: dict[str, int] = {}
    for point in points:
        name = point.street or point.district
        counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))

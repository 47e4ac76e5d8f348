"""Targets: which address points a message is for. Pure rules over an address point's facts, no I/O.

A target is a union of selectors (city, districts, streets with house numbers, address point codes,
polygons, circles) minus an optional union of exclusions; filters then narrow who at those points is
reached. `Target.selects(point)` is the one definition of what a target means; the database only stores
its answer.
"""

import math
import re
from typing import Annotated, Any, Literal, Protocol

import numpy as np
import shapely
from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from hlasatel_contracts import AddressRole, IdentityLevel, Language
from hlasatel_contracts.addresses import AddressPointCode, Labelled

# Every list of a target is bounded, so that no request can make the composer test points for minutes:
# more address points than Liberec has (16,140), more streets than it has (988), and polygons of at most
# MAX_VERTICES corners in all, which ČHMÚ's most detailed areas stay well under.
MAX_ADDRESS_POINTS = 20_000
MAX_DISTRICTS = 100
MAX_STREETS = 1_000
MAX_HOUSE_NUMBERS = 500
MAX_AREAS = 100
MAX_VERTICES = 10_000


class PointFacts(Labelled, Protocol):
    """What targeting needs to know about an address point: its label's parts, its code and place."""

    @property
    def code(self) -> int: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


_NUMBER = re.compile(r"^\s*(\d{1,5})\s*([a-zA-Z]?)\s*$")
_RANGE = re.compile(r"^\s*(\d{1,5}\s*[a-zA-Z]?)\s*[-–]\s*(\d{1,5}\s*[a-zA-Z]?)\s*$")

HouseNumber = tuple[int, str]


def _house_number(text: str) -> HouseNumber:
    match = _NUMBER.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a house number such as 12 or 12a")
    return int(match[1]), match[2].lower()


class NumberSpan(BaseModel):
    """One item of a house-number list: '12' (exactly 12), '12a', or a range '1-25' / '3a-7'."""

    low: HouseNumber
    high: HouseNumber
    exact: bool

    @classmethod
    def parse(cls, text: str) -> "NumberSpan":
        if (span := _RANGE.match(text)) is not None:
            low, high = _house_number(span[1]), _house_number(span[2])
            if low > high:
                raise ValueError(f"the range '{text}' runs backwards")
            return cls(low=low, high=high, exact=False)
        number = _house_number(text)
        return cls(low=number, high=number, exact=True)

    def covers(self, number: int, letter: str) -> bool:
        """'12' is 12 alone; a range takes every letter of its numbers unless a bound names its letter."""
        if self.exact:
            return (number, letter) == self.low
        low_number, low_letter = self.low
        high_number, high_letter = self.high
        if not low_number <= number <= high_number:
            return False
        if number == low_number and low_letter and letter < low_letter:
            return False
        return not (number == high_number and high_letter and (not letter or letter > high_letter))


class HouseNumbers(BaseModel):
    """Houses on a street: a list of numbers and ranges, one side of the street, or both together."""

    by: Literal["orientation", "cp", "ce"] = Field(
        default="orientation",
        description="Číslo orientační (the number on the street, default), číslo popisné or číslo evidenční",
    )
    numbers: list[str] = Field(
        default_factory=list,
        max_length=MAX_HOUSE_NUMBERS,
        description="'12' is that house alone, '12a' the house with the letter, '1-25' every house from 1 "
        "to 25 including 7a; empty means every house (of the side, if given)",
        examples=[["1-25", "30a"]],
    )
    side: Literal["odd", "even"] | None = Field(default=None, description="Only odd or only even numbers")
    _spans: list[NumberSpan] = PrivateAttr(default_factory=list)

    @field_validator("numbers")
    @classmethod
    def _numbers_parse(cls, numbers: list[str]) -> list[str]:
        for text in numbers:
            NumberSpan.parse(text)
        return numbers

    @model_validator(mode="after")
    def _something(self) -> "HouseNumbers":
        if not self.numbers and self.side is None:
            raise ValueError("house numbers need numbers, a side, or both")
        self._spans = [NumberSpan.parse(text) for text in self.numbers]
        if self.by != "orientation" and any(span.low[1] or span.high[1] for span in self._spans):
            raise ValueError("letters belong to čísla orientační; č.p. and č.ev. have none")
        return self

    def selects(self, point: PointFacts) -> bool:
        if self.by == "orientation":
            number, letter = point.orientation_number, (point.orientation_letter or "").lower()
        else:
            number, letter = (point.building_number if point.building_kind == self.by else None), ""
        if number is None:
            return False
        if self.side is not None and (number % 2 == 1) != (self.side == "odd"):
            return False
        return not self._spans or any(span.covers(number, letter) for span in self._spans)


def _same_name(a: str | None, b: str) -> bool:
    return a is not None and a.casefold() == b.casefold()


class StreetSelector(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100, examples=["Masarykova"])]
    district: str | None = Field(
        default=None, description="Only the part of the street in this část obce (136 streets cross two)"
    )
    houses: HouseNumbers | None = Field(default=None, description="Only these houses; all when absent")

    def selects(self, point: PointFacts) -> bool:
        if not _same_name(point.street, self.name):
            return False
        if self.district is not None and not _same_name(point.district, self.district):
            return False
        return self.houses is None or self.houses.selects(point)


Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class Polygon(BaseModel):
    """WGS-84 vertices as [latitude, longitude], CAP's order; the ring closes itself."""

    points: Annotated[list[tuple[Latitude, Longitude]], Field(min_length=3, max_length=MAX_VERTICES)]
    _shape: Any = PrivateAttr(default=None)
    _box: tuple[float, float, float, float] = PrivateAttr(default=(0.0, 0.0, 0.0, 0.0))

    @model_validator(mode="after")
    def _prepared(self) -> "Polygon":
        """The ring as a prepared GEOS geometry in the plane of degrees (exact enough across a city), made
        valid first: a ring that crosses itself covers what the even-odd rule gives it."""
        vertices = np.array(self.points, dtype=np.float64)[:, ::-1]  # (longitude, latitude), GEOS's x and y
        (west, south), (east, north) = vertices.min(axis=0), vertices.max(axis=0)
        self._box = (float(south), float(west), float(north), float(east))
        # built from the array at once: shapely's Polygon() walks 10,000 vertices in Python (20 ms)
        ring: Any = shapely.polygons(np.vstack([vertices, vertices[:1]]))
        shape = ring if ring.is_valid else shapely.make_valid(ring)
        shapely.prepare(shape)
        self._shape = shape
        return self

    def bounds(self) -> tuple[float, float, float, float]:
        """(south, west, north, east)."""
        return self._box

    @property
    def shape(self) -> Any:
        """The prepared GEOS geometry, x = longitude, y = latitude."""
        return self._shape

    def contains(self, latitude: float, longitude: float) -> bool:
        """Inside the ring or on its edge: a house drawn on the line is in the area."""
        return bool(shapely.intersects_xy(self._shape, longitude, latitude))


EARTH_RADIUS_M = 6_371_008.8


class Circle(BaseModel):
    latitude: Latitude
    longitude: Longitude
    radius_m: Annotated[float, Field(gt=0, le=100_000)]

    def bounds(self) -> tuple[float, float, float, float]:
        """(south, west, north, east): a box around the circle, a little generous."""
        d_lat = math.degrees(self.radius_m / EARTH_RADIUS_M) * 1.01
        cos_lat = max(math.cos(math.radians(self.latitude)), 1e-6)
        d_lon = min(d_lat / cos_lat, 180.0)
        return self.latitude - d_lat, self.longitude - d_lon, self.latitude + d_lat, self.longitude + d_lon

    def contains(self, latitude: float, longitude: float) -> bool:
        """Great-circle distance from the centre (haversine)."""
        phi1, phi2 = math.radians(self.latitude), math.radians(latitude)
        d_phi, d_lambda = phi2 - phi1, math.radians(longitude - self.longitude)
        h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
        return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h)) <= self.radius_m


class Selection(BaseModel):
    """A union of selectors: a point is selected when any of them selects it."""

    city: bool = Field(default=False, description="The whole city")
    districts: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=MAX_DISTRICTS, description="Části obce by name"
    )
    streets: list[StreetSelector] = Field(default_factory=list, max_length=MAX_STREETS)
    address_points: list[AddressPointCode] = Field(
        default_factory=list, max_length=MAX_ADDRESS_POINTS, description="RÚIAN address point codes"
    )
    polygons: list[Polygon] = Field(default_factory=list, max_length=MAX_AREAS)
    circles: list[Circle] = Field(default_factory=list, max_length=MAX_AREAS)
    _codes: frozenset[int] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _bounded(self) -> "Selection":
        vertices = sum(len(polygon.points) for polygon in self.polygons)
        if vertices > MAX_VERTICES:
            raise ValueError(f"the polygons have {vertices} vertices; at most {MAX_VERTICES} in all")
        self._codes = frozenset(self.address_points)
        return self

    def vertices(self) -> int:
        return sum(len(polygon.points) for polygon in self.polygons)

    def areas(self) -> list["Polygon | Circle"]:
        return [*self.polygons, *self.circles]

    def is_empty(self) -> bool:
        return not (
            self.city
            or self.districts
            or self.streets
            or self.address_points
            or self.polygons
            or self.circles
        )

    def selects(self, point: PointFacts) -> bool:
        if self.city or point.code in self._codes:
            return True
        if any(_same_name(point.district, district) for district in self.districts):
            return True
        if any(street.selects(point) for street in self.streets):
            return True
        if point.latitude is None or point.longitude is None:
            return False
        return any(
            _in_box(area.bounds(), point) and area.contains(point.latitude, point.longitude)
            for area in self.areas()
        )


def _in_box(box: tuple[float, float, float, float], point: PointFacts) -> bool:
    south, west, north, east = box
    assert point.latitude is not None and point.longitude is not None
    return south <= point.latitude <= north and west <= point.longitude <= east


class TargetFilters(BaseModel):
    identity_level: IdentityLevel | None = Field(
        default=None, description="'verified': only citizens whose address the city's portal confirmed"
    )
    roles: list[AddressRole] | None = Field(default=None, description="Only these relations to the address")
    languages: list[Language] | None = Field(default=None, description="Only subscribers reading these")


class Target(Selection):
    """Selected address points minus excluded ones; filters narrow who at those points is reached."""

    exclude: Selection | None = Field(default=None, description="Address points taken out again")
    filters: TargetFilters = Field(default_factory=TargetFilters)

    @model_validator(mode="after")
    def _something_selected(self) -> "Target":
        if Selection.is_empty(self):
            raise ValueError(
                "the target selects nothing: give city, districts, streets, address_points, "
                "polygons or circles"
            )
        vertices = self.vertices() + (self.exclude.vertices() if self.exclude else 0)
        if vertices > MAX_VERTICES:
            raise ValueError(f"the target's polygons have {vertices} vertices; at most {MAX_VERTICES} in all")
        return self

    def selects(self, point: PointFacts) -> bool:
        if not super().selects(point):
            return False
        return self.exclude is None or not self.exclude.selects(point)

    def is_whole_city(self) -> bool:
        return self.city and (self.exclude is None or self.exclude.is_empty())

"""Targets: which address points a message is for. Pure rules over an address point's facts, no I/O.

A target is a union of selectors (city, districts, streets with house numbers, address point codes,
polygons, circles) minus an optional union of exclusions; filters then narrow who at those points is
reached. `Target.selects(point)` is the one definition of what a target means; the database only stores
its answer.
"""

import math
import re
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from hlasatel_contracts import AddressRole, IdentityLevel, Language
from hlasatel_contracts.addresses import Labelled


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

    points: Annotated[list[tuple[Latitude, Longitude]], Field(min_length=3, max_length=10_000)]

    def contains(self, latitude: float, longitude: float) -> bool:
        """Ray casting in the plane of degrees, which is exact enough across a city."""
        inside = False
        ring = self.points
        for (lat1, lon1), (lat2, lon2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (lat1 > latitude) != (lat2 > latitude):
                crossing = lon1 + (latitude - lat1) * (lon2 - lon1) / (lat2 - lat1)
                if longitude < crossing:
                    inside = not inside
        return inside


_EARTH_RADIUS_M = 6_371_008.8


class Circle(BaseModel):
    latitude: Latitude
    longitude: Longitude
    radius_m: Annotated[float, Field(gt=0, le=100_000)]

    def contains(self, latitude: float, longitude: float) -> bool:
        """Great-circle distance from the centre (haversine)."""
        phi1, phi2 = math.radians(self.latitude), math.radians(latitude)
        d_phi, d_lambda = phi2 - phi1, math.radians(longitude - self.longitude)
        h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
        return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h)) <= self.radius_m


class Selection(BaseModel):
    """A union of selectors: a point is selected when any of them selects it."""

    city: bool = Field(default=False, description="The whole city")
    districts: list[str] = Field(default_factory=list, description="Části obce by name")
    streets: list[StreetSelector] = Field(default_factory=list)
    address_points: list[int] = Field(default_factory=list, description="RÚIAN address point codes")
    polygons: list[Polygon] = Field(default_factory=list)
    circles: list[Circle] = Field(default_factory=list)

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
        if self.city or point.code in self.address_points:
            return True
        if any(_same_name(point.district, district) for district in self.districts):
            return True
        if any(street.selects(point) for street in self.streets):
            return True
        if point.latitude is None or point.longitude is None:
            return False
        areas: list[Polygon | Circle] = [*self.polygons, *self.circles]
        return any(area.contains(point.latitude, point.longitude) for area in areas)


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
        return self

    def selects(self, point: PointFacts) -> bool:
        if not super().selects(point):
            return False
        return self.exclude is None or not self.exclude.selects(point)

    def is_whole_city(self) -> bool:
        return self.city and (self.exclude is None or self.exclude.is_empty())

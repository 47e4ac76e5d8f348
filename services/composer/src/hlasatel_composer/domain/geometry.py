"""Shapes drawn around address points: a district's outline for a map, and the area of a message's houses
as CAP polygons. Pure (GEOS through shapely).

Shapes are made in metres on a local plane (longitude scaled by the cosine of the latitude), where a
buffer of 40 m is 40 m in every direction, and given back in WGS-84.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

_METRES_A_DEGREE = 111_320.0
# a district's outline: how concave (GEOS's ratio), and how far beyond its outermost houses
_CONCAVITY = 0.15
_OUTLINE_MARGIN_M = 60.0
# a message's area: houses within twice this of each other fall into one polygon
_AREA_MARGIN_M = 40.0
_SIMPLIFY_M = 15.0
# beyond this many separate polygons, the area is the hull of all its houses: a CAP reader takes few;
# and beyond this many houses the hull is made at once (the union of their circles takes long)
_MOST_POLYGONS = 20
_MOST_HOUSES_APART = 500

LatLon = tuple[float, float]


class _Plane:
    """Metres east and north of nothing in particular, true in scale around the points' latitude."""

    def __init__(self, points: Sequence[LatLon]) -> None:
        self.scale = math.cos(math.radians(sum(lat for lat, _ in points) / len(points))) * _METRES_A_DEGREE

    def shape(self, points: Sequence[LatLon]) -> Any:
        xy = np.array([(lon * self.scale, lat * _METRES_A_DEGREE) for lat, lon in points])
        return shapely.multipoints(xy)

    def ring(self, polygon: Any) -> list[LatLon]:
        """A polygon's outer ring in WGS-84, closed, counter-clockwise (as GeoJSON and CAP take it)."""
        oriented = shapely.orient_polygons(polygon)
        return [
            (round(y / _METRES_A_DEGREE, 6), round(x / self.scale, 6)) for x, y in oriented.exterior.coords
        ]


def _polygons(shape: Any) -> list[Any]:
    return list(shape.geoms) if hasattr(shape, "geoms") else [shape]


def outline(points: Sequence[LatLon]) -> dict[str, Any]:
    """A district's outline as a GeoJSON geometry: the concave hull of its houses with a margin."""
    plane = _Plane(points)
    hull = shapely.concave_hull(plane.shape(points), ratio=_CONCAVITY)
    shape = hull.buffer(_OUTLINE_MARGIN_M).simplify(_SIMPLIFY_M)
    rings = [[[lon, lat] for lat, lon in plane.ring(polygon)] for polygon in _polygons(shape)]
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings}
    return {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}


def covering_rings(points: Sequence[LatLon]) -> list[list[LatLon]]:
    """Polygons that cover these houses with a margin, as CAP rings of [latitude, longitude]: one per
    group of neighbouring houses, or one hull of them all where they are scattered widely."""
    if not points:
        return []
    plane = _Plane(points)
    houses = plane.shape(points)
    shape = None
    if len(points) <= _MOST_HOUSES_APART:
        shape = shapely.buffer(houses, _AREA_MARGIN_M).simplify(_SIMPLIFY_M)
    if shape is None or len(_polygons(shape)) > _MOST_POLYGONS:
        shape = shapely.concave_hull(houses, ratio=_CONCAVITY).buffer(_AREA_MARGIN_M).simplify(_SIMPLIFY_M)
    return [plane.ring(polygon) for polygon in _polygons(shape)]

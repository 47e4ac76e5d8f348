"""S-JTSK (as RÚIAN gives it) to WGS-84."""

from collections.abc import Sequence

from pyproj import Transformer

# EPSG:5514 is S-JTSK / Krovak East North, whose axes are RÚIAN's Y and X negated.
_TO_WGS84 = Transformer.from_crs("EPSG:5514", "EPSG:4326", always_xy=True)


def to_wgs84(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(Y, X) pairs as RÚIAN prints them → (latitude, longitude) pairs."""
    if not points:
        return []
    eastings = [-y for y, _ in points]
    northings = [-x for _, x in points]
    longitudes, latitudes = _TO_WGS84.transform(eastings, northings)
    return [(round(lat, 7), round(lon, 7)) for lat, lon in zip(latitudes, longitudes, strict=True)]

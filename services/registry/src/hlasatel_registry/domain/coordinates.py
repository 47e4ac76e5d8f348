"""S-JTSK (as RÚIAN gives it) to WGS-84."""

from collections.abc import Sequence

from pyproj import Transformer

from hlasatel_contracts import AddressPoint
from hlasatel_registry.domain.gazetteer import AddressRecord

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


def address_points(records: Sequence[AddressRecord]) -> list[AddressPoint]:
    """Gazetteer records as the changelog describes them, with WGS-84 coordinates."""
    located = to_wgs84([(r.sjtsk_y or 0.0, r.sjtsk_x or 0.0) for r in records])
    return [
        AddressPoint(
            code=r.code,
            district_code=r.district_code,
            district=r.district,
            street_code=r.street_code,
            street=r.street,
            building_kind=r.building_kind,
            building_number=r.building_number,
            orientation_number=r.orientation_number,
            orientation_letter=r.orientation_letter,
            postcode=r.postcode,
            latitude=lat if r.sjtsk_y is not None else None,
            longitude=lon if r.sjtsk_y is not None else None,
        )
        for r, (lat, lon) in zip(records, located, strict=True)
    ]

"""What the console's map draws, from the composer's GeoJSON: the districts' outlines, the register's
points a target covers, and, for context, the other points of the districts they lie in."""

from typing import Any

from hlasatel_console.adapters.composer import ComposerApi

Json = dict[str, Any]
# beyond this many districts the other points would be most of the city: the targeted ones are enough
CONTEXT_DISTRICTS = 6


def _points(collection: Json) -> list[Json]:
    return [
        feature
        for feature in collection.get("features", [])
        if feature.get("properties", {}).get("kind") == "address_point" and feature.get("geometry")
    ]


def _compact(feature: Json, targeted: bool) -> list[Any]:
    """[longitude, latitude, label, targeted]: a fifth of a feature's size, for 16,000 points."""
    longitude, latitude = feature["geometry"]["coordinates"]
    return [round(longitude, 6), round(latitude, 6), feature["properties"].get("address"), targeted]


async def map_features(composer: ComposerApi, token: str, target: Json | None) -> Json:
    chosen = await composer.target_geojson(token, target)
    outlines = [f for f in chosen.get("features", []) if f.get("properties", {}).get("kind") == "district"]
    targeted = _points(chosen)
    codes = {feature["id"] for feature in targeted}
    districts = sorted(
        {str(f["properties"].get("district")) for f in targeted if f["properties"].get("district")}
    )
    others: list[Json] = []
    if targeted and len(districts) <= CONTEXT_DISTRICTS and not (target or {}).get("city"):
        around = await composer.target_geojson(token, {"districts": districts})
        others = [feature for feature in _points(around) if feature["id"] not in codes]
    return {
        "outlines": {"type": "FeatureCollection", "features": outlines},
        "points": [_compact(f, True) for f in targeted] + [_compact(f, False) for f in others],
        "targeted": len(targeted),
        "streets": _streets(targeted),
    }


def _streets(points: list[Json]) -> list[Json]:
    """The targeted house numbers per street, for the accessible list beside the map."""
    found: dict[str, list[str]] = {}
    for feature in points:
        properties = feature["properties"]
        street = properties.get("street") or properties.get("district") or ""
        found.setdefault(street, []).append(str(properties.get("number") or ""))
    return [{"street": street, "numbers": numbers} for street, numbers in sorted(found.items())]

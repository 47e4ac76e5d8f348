"""A message's households as others read them: a spreadsheet, a door-to-door list, a map. Pure."""

import csv
import io
from collections.abc import Sequence
from typing import Any

from hlasatel_composer.schemas import HouseholdRead
from hlasatel_contracts import DeliveryState

REASONS = {
    "subscribed_not_reached": "subscribed, but nobody reached",
    "not_subscribed": "nobody subscribed",
}

# a cell a spreadsheet would read as a formula (CSV injection): it gets a leading apostrophe
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value as a spreadsheet may safely open it: text that would start a formula is made text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Sequence[Sequence[object]], *, header: Sequence[object]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(cell(value) for value in row)
    return out.getvalue()


def household_row(h: HouseholdRead | None) -> list[object]:
    """A household of the report as a spreadsheet row (the header, given None)."""
    if h is None:
        return [
            "address_point_code", "address", "district", "street", "number", "postcode", "subscribers",
            "deliveries", *(state.value for state in DeliveryState), "reached", "reason",
        ]  # fmt: skip
    return [
        h.address_point_code,
        h.address or "",
        h.district or "",
        h.street or "",
        h.number or "",
        h.postcode or "",
        h.subscribers,
        h.deliveries,
        *(h.states.get(state.value, 0) for state in DeliveryState),
        "yes" if h.reached else "no",
        REASONS.get(h.reason or "", ""),
    ]


def unreached_row(h: HouseholdRead | None) -> list[object]:
    """A household nobody was reached at, as a door-to-door list has it (the header, given None)."""
    if h is None:
        return ["street", "number", "district", "postcode", "reason", "address_point_code"]
    return [
        h.street or "",
        h.number or "",
        h.district or "",
        h.postcode or "",
        REASONS.get(h.reason or "", ""),
        h.address_point_code,
    ]


def households_geojson(households: Sequence[HouseholdRead]) -> dict[str, Any]:
    """The households as GeoJSON points (RFC 7946: [longitude, latitude]); one the register does not place
    has no geometry."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": h.address_point_code,
                "geometry": {"type": "Point", "coordinates": [h.longitude, h.latitude]}
                if h.latitude is not None and h.longitude is not None
                else None,
                "properties": {
                    "address": h.address,
                    "street": h.street,
                    "number": h.number,
                    "district": h.district,
                    "postcode": h.postcode,
                    "subscribers": h.subscribers,
                    "reached": h.reached,
                    "reason": h.reason,
                },
            }
            for h in households
        ],
    }
